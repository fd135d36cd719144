#!/usr/bin/env bash
# Offline checks of the deployment files; needs no Docker engine and no cluster.
#
#   scripts/deploy-check.sh      (make deploy-check)
#
# 1. docker-compose.yml through `docker compose config` (or Debian's docker-compose):
#    it must print no error and no warning.
# 2. tests/deploy/check.mjs: every Kubernetes manifest against its kubernetes-models
#    schema (unknown fields included), the references between them, pod security,
#    probes; the Dockerfile's targets and build context; compose's wiring.
# Installs what is missing: Debian's docker-compose, the Node packages of tests/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$CRAFT_REPO"

# The compose command that works here, installing Debian's docker-compose if none does.
compose_cmd() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
		return
	fi
	if ! command -v docker-compose >/dev/null 2>&1; then
		local sudo=
		if [[ $(id -u) != 0 ]]; then
			command -v sudo >/dev/null 2>&1 || die "docker-compose is missing: install it (Debian package docker-compose)"
			sudo=sudo
		fi
		say "installing docker-compose"
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >&2
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install \
			-y -q --no-install-recommends docker-compose >&2
	fi
	echo docker-compose
}

# The Node packages the manifest checks use, from tests/package-lock.json.
node_packages() {
	command -v node >/dev/null 2>&1 || die "node is missing (scripts/deps.sh --test installs it)"
	if (cd tests && node --input-type=module \
		-e 'await import("kubernetes-models/v1"); await import("yaml")') >/dev/null 2>&1; then
		return 0
	fi
	say "installing the Node packages of tests/"
	(cd tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2
}

check_compose() {
	local cmd out err noenv rc=0
	cmd=$(compose_cmd)
	err=$(mktemp)
	noenv=$(mktemp)
	# Defaults only: a developer's .env must not change what is checked.
	out=$($cmd --env-file "$noenv" -f docker-compose.yml config -q 2>"$err") || rc=$?
	if ((rc != 0)) || [[ -s $err || -n $out ]]; then
		printf 'not ok - %s config\n' "$cmd"
		sed 's/^/    /' "$err"
		[[ -z $out ]] || printf '    %s\n' "$out"
		rc=1
	else
		printf 'ok - %s config: docker-compose.yml is valid\n' "$cmd"
	fi
	rm -f "$err" "$noenv"
	return "$rc"
}

main() {
	local rc=0
	check_compose || rc=1
	node_packages
	node tests/deploy/check.mjs "$CRAFT_REPO" || rc=1
	if ((rc != 0)); then
		say "deploy-check: FAILED"
	else
		say "deploy-check: every check passed"
	fi
	return "$rc"
}

main "$@"
