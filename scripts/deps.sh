#!/usr/bin/env bash
# Installs what Craftista needs on Debian 12: build, run and test packages, and with
# --test the Node packages of tests/ (plus Chromium when tests/browser has tests).
# A fast no-op when everything is present.
#
#   scripts/deps.sh          packages to build and run
#   scripts/deps.sh --test   the same, plus what the tests need
#   scripts/deps.sh --soak   the same as the first, plus the soak's balancer and charts
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_RUN_PACKAGES=(
	build-essential cmake pkg-config
	libmicrohttpd-dev libjansson-dev libpq-dev libhiredis-dev libcurl4-openssl-dev zlib1g-dev
	libssl-dev libcrypt-dev libcmocka-dev
	postgresql-15 postgresql-client redis-server
	curl procps iproute2 clang-format clang-tidy
)
BROWSER_PACKAGES=(chromium)
# the bounded libFuzzer run that make test ends with
FUZZ_PACKAGES=(clang libclang-rt-14-dev)
# make soak: the load balancer in front of the replicas, and the report's chart
SOAK_PACKAGES=(haproxy gnuplot-nox)
NODE_MIN_MAJOR=18

# pkg_present NAME: true when NAME is installed (or, for a few, something equivalent is).
pkg_present() {
	local status
	status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)
	[[ $status == installed ]] && return 0
	case $1 in
	# The versioned client that postgresql-15 depends on is as good as the metapackage.
	postgresql-client) [[ -x /usr/lib/postgresql/15/bin/psql ]] ;;
	*) return 1 ;;
	esac
}

# missing_of NAME...: prints the names among NAME... that are not installed.
missing_of() {
	local p
	for p in "$@"; do
		pkg_present "$p" || printf '%s\n' "$p"
	done
}

# node_packages: Debian's nodejs/npm, only when node is missing; never replaces a node
# that is there (it may be newer than Debian's), only adds Debian's npm to Debian's node.
node_packages() {
	if ! command -v node >/dev/null 2>&1; then
		printf '%s\n' nodejs npm
		return
	fi
	command -v npm >/dev/null 2>&1 && return 0
	local version
	version=$(dpkg-query -W -f='${Version}' nodejs 2>/dev/null || true)
	if [[ $version == *deb* && $version != *nodesource* ]]; then
		printf '%s\n' npm
	else
		warn "node is installed without npm (and not from Debian): install npm for that node"
	fi
}

have_browser_tests() {
	[[ -d $CRAFT_REPO/tests/browser ]] &&
		[[ -n $(find "$CRAFT_REPO/tests/browser" -path '*/node_modules' -prune -o \
			-type f \( -name '*.test.js' -o -name '*.test.mjs' \) -print -quit) ]]
}

# apt_install NAME...: one apt-get update, then install NAME... non-interactively.
apt_install() {
	local sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "missing packages ($*) and not root: install them"
		sudo=(sudo)
	fi
	say "installing: $*"
	# Keep package scripts from starting the system's own PostgreSQL and Redis on the
	# default ports: the stack runs servers of its own. Only a policy we added is removed.
	local policy=/usr/sbin/policy-rc.d added_policy=
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
		"${sudo[@]}" chmod 755 "$policy"
		added_policy=1
	fi
	local rc=0
	{
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get -o DPkg::Lock::Timeout=600 update -q &&
			"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "$@"
	} || rc=$?
	[[ -z $added_policy ]] || "${sudo[@]}" rm -f "$policy"
	return "$rc"
}

# check_node: node >= NODE_MIN_MAJOR with npm, as the tests need.
check_node() {
	command -v node >/dev/null 2>&1 || die "node is missing"
	command -v npm >/dev/null 2>&1 || die "npm is missing"
	local major
	major=$(node -p 'process.versions.node.split(".")[0]')
	((major >= NODE_MIN_MAJOR)) || die "node $(node --version) is too old: the tests need node >= $NODE_MIN_MAJOR"
}

# deps_sum DIR: a checksum of DIR's package.json and package-lock.json (when there).
deps_sum() {
	local f
	for f in "$1/package.json" "$1/package-lock.json"; do
		if [[ -f $f ]]; then cat "$f"; fi
	done | sha256sum | cut -d' ' -f1
}

# node_modules_install: npm ci (or npm install without a lock) in tests/ when
# node_modules is missing or package.json / package-lock.json changed since last time.
node_modules_install() {
	local dir=$CRAFT_REPO/tests stamp sum
	[[ -f $dir/package.json ]] || return 0
	check_node
	stamp=$dir/node_modules/.craft-deps.sha256
	sum=$(deps_sum "$dir")
	if [[ -d $dir/node_modules && -f $stamp && $(cat "$stamp") == "$sum" ]]; then
		return 0
	fi
	say "installing the Node packages of tests/"
	local cmd=install
	[[ -f $dir/package-lock.json ]] && cmd=ci
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm "$cmd" --no-audit --no-fund --loglevel=error)
	# npm install may have rewritten the lock: record what is there now.
	deps_sum "$dir" >"$stamp"
}

main() {
	local test_mode= soak_mode=
	case ${1:-} in
	'') ;;
	--test) test_mode=1 ;;
	--soak) soak_mode=1 ;;
	*) die "usage: $0 [--test|--soak]" ;;
	esac
	command -v dpkg-query >/dev/null 2>&1 || die "this script installs Debian packages; install by hand: ${BUILD_RUN_PACKAGES[*]}"

	local want=("${BUILD_RUN_PACKAGES[@]}")
	[[ -n $test_mode ]] && have_browser_tests && want+=("${BROWSER_PACKAGES[@]}")
	[[ -n $test_mode ]] && want+=("${FUZZ_PACKAGES[@]}")
	[[ -n $soak_mode ]] && want+=("${SOAK_PACKAGES[@]}")
	local missing
	mapfile -t missing < <(missing_of "${want[@]}"; node_packages)
	if ((${#missing[@]} > 0)); then
		apt_install "${missing[@]}"
	fi
	[[ -z $test_mode ]] || node_modules_install
	[[ -z $soak_mode ]] || check_node
}

main "$@"
