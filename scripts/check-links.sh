#!/usr/bin/env bash
# Verifies that each service binary links only the client libraries it uses
# (the layered libraries of lib/craft, docs/architecture.md): prints every
# binary's NEEDED list (readelf, as ldd's direct part) and its craft_* client
# functions (nm), and fails naming each binary that carries what it must not:
#   frontend        no libpq, no hiredis, no PostgreSQL or Redis functions
#   recommendation  no hiredis, no Redis functions, no JWK set cache
#   all but auth    no libcrypt (libxcrypt: only auth hashes passwords)
#
#   scripts/check-links.sh [BUILD_DIR]   (default: $BUILD_DIR or build)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build=$(abs_path "${1:-${BUILD_DIR:-build}}")
command -v readelf >/dev/null 2>&1 || die "readelf is missing (binutils)"
command -v nm >/dev/null 2>&1 || die "nm is missing (binutils)"

needed() { readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
# defined craft_<prefix>* functions, counted
defined() { nm --defined-only "$1" | grep -cE " [Tt] craft_($2)" || true; }

failed=0
forbid() { # binary name, what, reason
	say "error: craft-$1 links $2 ($3)"
	failed=1
}

for name in auth frontend product recommendation; do
	bin=$build/services/$name/craft-$name
	[[ -x $bin ]] || die "no craft-$name under ${build#"$CRAFT_REPO"/}: build first"
	libs=$(needed "$bin")
	pg=$(defined "$bin" 'pg_|service_open_db')
	redis=$(defined "$bin" 'redis_|service_open_cache')
	jwks=$(defined "$bin" 'jwks_')
	say "craft-$name NEEDED: $(tr '\n' ' ' <<<"$libs")"
	say "craft-$name functions: PostgreSQL $pg, Redis $redis, JWK set $jwks"
	has() { grep -q "^$1" <<<"$libs"; }
	if [[ $name == frontend ]]; then
		! has libpq.so || forbid "$name" libpq "no database"
		! has libhiredis.so || forbid "$name" hiredis "no cache"
		((pg == 0)) || forbid "$name" "$pg PostgreSQL functions" "no database"
		((redis == 0)) || forbid "$name" "$redis Redis functions" "no cache"
	fi
	if [[ $name == recommendation ]]; then
		! has libhiredis.so || forbid "$name" hiredis "no cache"
		((redis == 0)) || forbid "$name" "$redis Redis functions" "no cache"
		((jwks == 0)) || forbid "$name" "$jwks JWK set functions" "no token checks"
	fi
	if [[ $name != auth ]]; then
		! has libcrypt.so || forbid "$name" libcrypt "only auth hashes passwords"
	fi
done
((failed == 0)) && say "links: every binary links only the client libraries it uses"
exit "$failed"
