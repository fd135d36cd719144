#!/usr/bin/env bash
# Verifies that the built binaries are hardened: PIE, full RELRO (GNU_RELRO +
# BIND_NOW), the stack protector and fortified libc calls. Reads the ELF files
# with readelf; exit 1 naming each binary and what it lacks.
#
#   scripts/check-hardening.sh [BUILD_DIR]   (default: $BUILD_DIR or build)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build=$(abs_path "${1:-${BUILD_DIR:-build}}")
command -v readelf >/dev/null 2>&1 || die "readelf is missing (binutils)"
mapfile -t bins < <(find "$build/services" "$build/tools" -maxdepth 2 -type f -name 'craft-*' -perm -u+x 2>/dev/null | sort)
((${#bins[@]} > 0)) || die "no binaries under ${build#"$CRAFT_REPO"/}: build first"

failed=0
for bin in "${bins[@]}"; do
	lacks=()
	readelf -hW "$bin" | grep -q 'Type:[[:space:]]*DYN' || lacks+=("PIE")
	readelf -lW "$bin" | grep -q 'GNU_RELRO' || lacks+=("RELRO")
	readelf -dW "$bin" | grep -Eq 'BIND_NOW|FLAGS.*[[:space:]]NOW' || lacks+=("BIND_NOW")
	syms=$(readelf -sW --dyn-syms "$bin")
	grep -q '__stack_chk_fail' <<<"$syms" || lacks+=("stack protector")
	grep -Eq '__[a-z_]+_chk(@|$|[[:space:]])' <<<"$syms" || lacks+=("_FORTIFY_SOURCE")
	if ((${#lacks[@]} > 0)); then
		say "not hardened: ${bin#"$build"/} lacks ${lacks[*]}"
		failed=1
	else
		say "hardened: ${bin#"$build"/} (PIE, full RELRO, stack protector, fortify)"
	fi
done
exit "$failed"
