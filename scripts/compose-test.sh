#!/usr/bin/env bash
# End-to-end test of docker-compose.yml (make compose-test).
#
#   scripts/compose-test.sh
#
# Brings the stack up with tests/compose/compose.test.yml, which swaps only the
# third-party images (PostgreSQL, Redis, the OpenTelemetry collector, Jaeger) for the
# stand-ins of tests/compose/standins, built here from Debian's packages; then runs
# tests/compose/compose.test.mjs against the ports the stack publishes on 127.0.0.1.
# A project name and host ports of its own, so it runs beside other stacks; the
# project is always taken down (`down -v`) at the end.
#
# Needs the images of `make images` (craftista/<target>:$CRAFTISTA_TAG, default dev).
# Logs: var/compose-test/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
cd "$CRAFT_REPO"

export CRAFTISTA_TAG=${CRAFTISTA_TAG:-dev}
BASE=${DEBIAN_IMAGE:-debian:12-slim}
LOGS=var/compose-test
STANDINS=(postgres redis otel-collector jaeger)
PROJECT=craftista-ct-$(rand_hex 4)
FILES=(-f docker-compose.yml -f tests/compose/compose.test.yml)
COMPOSE=()
NOENV=

build_standins() {
	local target
	for target in "${STANDINS[@]}"; do
		say "building stand-in craftista-standin/$target:test"
		if ! docker_build --progress=plain --build-arg "DEBIAN_IMAGE=$BASE" --target "$target" \
			-t "craftista-standin/$target:test" tests/compose/standins >"$LOGS/standin-$target.log" 2>&1; then
			tail -n 40 "$LOGS/standin-$target.log" >&2
			die "building the $target stand-in failed"
		fi
	done
}

compose() {
	"${COMPOSE[@]}" --env-file "$NOENV" -p "$PROJECT" "${FILES[@]}" "$@"
}

cleanup() {
	compose logs --no-color >"$LOGS/stack.log" 2>&1 || true
	compose down -v --remove-orphans >>"$LOGS/down.log" 2>&1 || true
	rm -f "$NOENV"
}

main() {
	local target rc=0 start=$SECONDS
	mkdir -p "$LOGS"
	docker_engine_up
	for target in "${CRAFT_IMAGE_TARGETS[@]}"; do
		docker image inspect "craftista/$target:$CRAFTISTA_TAG" >/dev/null 2>&1 ||
			die "no image craftista/$target:$CRAFTISTA_TAG: run make images first"
	done
	docker_base_image "$BASE"
	build_standins
	read -r -a COMPOSE <<<"$(compose_cmd)"
	command -v node >/dev/null 2>&1 || die "node is missing (scripts/deps.sh --test installs it)"
	NOENV=$(mktemp)
	pick_free_ports FRONTEND_PORT JAEGER_UI_PORT
	trap cleanup EXIT
	say "compose project $PROJECT: frontend on 127.0.0.1:$FRONTEND_PORT, traces on 127.0.0.1:$JAEGER_UI_PORT"
	if ! compose up -d --no-build >"$LOGS/up.log" 2>&1; then
		tail -n 40 "$LOGS/up.log" >&2
		warn "compose up failed; the tests say what is not running"
	fi
	CT_COMPOSE="${COMPOSE[*]} --env-file $NOENV -p $PROJECT ${FILES[*]}" CT_PROJECT=$PROJECT \
		FRONTEND_URL=http://127.0.0.1:$FRONTEND_PORT TRACES_URL=http://127.0.0.1:$JAEGER_UI_PORT \
		node --test --test-reporter=spec tests/compose/compose.test.mjs || rc=$?
	say "compose-test: $((SECONDS - start)) s"
	return "$rc"
}

main "$@"
