#!/usr/bin/env bash
# Starts the binaries of the images built for another architecture under qemu-user
# emulation (run by scripts/images.sh after a cross build).
#
#   scripts/images-emulated.sh ARCH        e.g. arm64
#
# Each image's files are taken out of the engine (docker export) and run with
# qemu-user with that folder as the root of library and file lookups, and the
# image's own environment: every service must refuse its development default secret
# (so it loaded every library and read its settings), the frontend told it is in
# development must serve /about to the image's own health probe and exit 0 on
# SIGTERM, and migrate must report that no PostgreSQL answers.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
cd "$CRAFT_REPO"

ARCH=${1:?usage: images-emulated.sh ARCH}
TAG=${CRAFTISTA_TAG:-dev}
case $ARCH in
arm64) CPU=aarch64 ;;
amd64) CPU=x86_64 ;;
*) die "no emulator known for $ARCH" ;;
esac
QEMU=qemu-$CPU-static
WORK=$(mktemp -d)
PASSED=0
FAILED=0
FRONTEND_PID=

cleanup() {
	[[ -z $FRONTEND_PID ]] || stop_pid "$FRONTEND_PID" KILL 5 frontend || true
	rm -rf "$WORK"
}
trap cleanup EXIT

result() {
	if [[ $1 == 0 ]]; then
		printf 'ok - %s\n' "$2"
		PASSED=$((PASSED + 1))
	else
		printf 'not ok - %s\n' "$2"
		FAILED=$((FAILED + 1))
	fi
}

# rootfs TARGET: the files of craftista/TARGET:TAG-ARCH in WORK/TARGET, and its
# environment in WORK/TARGET.env.
rootfs() {
	local ref=craftista/$1:$TAG-$ARCH id
	mkdir -p "$WORK/$1"
	id=$(docker create --platform "linux/$ARCH" "$ref")
	docker export "$id" | tar -x -C "$WORK/$1"
	docker rm "$id" >/dev/null
	docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$ref" | sed '/^$/d' >"$WORK/$1.env"
}

# emulate TARGET [VAR=VALUE...] -- BINARY [ARG...]: run BINARY of TARGET's files under
# qemu, with only the image's environment and the VAR=VALUE given. It execs: call it
# in a subshell (or in the background, where $! is then the emulated process).
emulate() {
	local target=$1 root=$WORK/$1
	shift
	local -a vars=()
	mapfile -t vars <"$WORK/$target.env"
	while [[ $1 != -- ]]; do
		vars+=("$1")
		shift
	done
	shift
	exec env -i "${vars[@]}" "$QEMU" -L "$root" "$root$1" "${@:2}"
}

check_refuses_default_secret() {
	local svc=$1 out rc=0
	out=$(emulate "$svc" -- "/usr/local/bin/craft-$svc" 2>&1) && rc=1
	[[ $out == *"is still the development default"* ]] || rc=1
	((rc == 0)) || printf '    %s\n' "${out:0:300}"
	result "$rc" "$ARCH $svc: starts under emulation and refuses its default secret in production"
}

check_frontend_serves() {
	local port i rc=1
	pick_free_ports port
	emulate frontend DEPLOYMENT_ENVIRONMENT=development HOST=127.0.0.1 "PORT=$port" -- \
		/usr/local/bin/craft-frontend >"$WORK/frontend.log" 2>&1 &
	FRONTEND_PID=$!
	for ((i = 0; i < 120; i++)); do
		if (emulate frontend "PORT=$port" -- /usr/local/bin/craft-healthcheck /about 2>/dev/null); then
			rc=0
			break
		fi
		pid_alive "$FRONTEND_PID" || break
		sleep 0.5
	done
	((rc == 0)) || tail -n 5 "$WORK/frontend.log" | sed 's/^/    /'
	result "$rc" "$ARCH frontend: serves /about to its own health probe, both emulated"
	rc=0
	kill -TERM "$FRONTEND_PID" 2>/dev/null || rc=1
	wait "$FRONTEND_PID" || rc=1
	FRONTEND_PID=
	result "$rc" "$ARCH frontend: exits 0 on SIGTERM"
}

check_migrate() {
	local port out rc=0
	pick_free_ports port
	out=$(emulate migrate POSTGRES_HOST=127.0.0.1 "POSTGRES_PORT=$port" MIGRATE_WAIT_S=0 -- \
		/usr/local/bin/craft-migrate /app/db/migrations 2>&1) && rc=1
	[[ $out == *"cannot connect to PostgreSQL"* ]] || rc=1
	((rc == 0)) || printf '    %s\n' "${out:0:300}"
	result "$rc" "$ARCH migrate: starts under emulation and reports the missing server"
}

main() {
	local t
	command -v "$QEMU" >/dev/null 2>&1 || apt_install qemu-user-static
	for t in "${CRAFT_IMAGE_TARGETS[@]}"; do
		rootfs "$t"
	done
	for t in auth product recommendation frontend; do
		check_refuses_default_secret "$t"
	done
	check_frontend_serves
	check_migrate
	printf '%s: %d passed, %d failed\n' "$ARCH" "$PASSED" "$FAILED"
	((FAILED == 0))
}

main "$@"
