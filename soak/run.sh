#!/usr/bin/env bash
# What `make soak` does: the shop scaled out behind HAProxy (two replicas each of
# frontend, product and auth, one recommendation) on free ports with a PostgreSQL and
# a Redis of its own (state in var/soak/run-<pid>), mixed load from distinct users for
# SOAK_SECONDS while dependencies fail on a schedule, then an audit of every
# acknowledged vote and a report (var/soak/report.md and report.svg). Exit 0 only when
# the audit passes. Everything it started is stopped on exit, also on failure or Ctrl-C.
#
# Settings (environment):
#   SOAK_SECONDS   length of the loaded run, faults included (default 300, at least 45)
#   SOAK_SANITIZE  1: run the ASan+UBSan build (build-sanitize) and fail on any report
#   SOAK_WORKERS   concurrent shoppers (default 24)
#   BUILD_DIR      build tree (default build, or build-sanitize with SOAK_SANITIZE=1)
set -euo pipefail
# shellcheck source=../scripts/lib.sh disable=SC1091 # followed with shellcheck -x
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

REPO=$CRAFT_REPO
STACK=$REPO/scripts/stack.sh
OUT_DIR=$REPO/var/soak
SOAK_VAR_DIR=

cleanup() {
	local rc=$?
	trap '' INT TERM
	trap - EXIT
	if [[ -n $SOAK_VAR_DIR && -d $SOAK_VAR_DIR ]]; then
		# The driver's replicas and HAProxy, when it could not stop them itself.
		local file pid
		for file in "$SOAK_VAR_DIR"/run/soak-*.pid; do
			[[ -e $file ]] || continue
			pid=$(read_pid "$file")
			[[ -z $pid ]] || kill -CONT "$pid" 2>/dev/null || true
			[[ -z $pid ]] || stop_pid "$pid" TERM 10 "$(basename "$file" .pid)" || true
		done
		VAR_DIR=$SOAK_VAR_DIR "$STACK" down >/dev/null 2>&1 || {
			warn "the soak stack did not stop cleanly"
			rc=1
		}
		if ((rc == 0)); then
			rm -rf "$SOAK_VAR_DIR"
		else
			say "kept the soak stack's state and logs in ${SOAK_VAR_DIR#"$REPO"/}"
		fi
	fi
	exit "$rc"
}

main() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	local seconds=${SOAK_SECONDS:-300}
	[[ $seconds =~ ^[0-9]+$ ]] && ((seconds >= 45)) || die "SOAK_SECONDS must be a whole number of seconds, at least 45"
	"$REPO/scripts/deps.sh" --soak
	if [[ ${SOAK_SANITIZE:-0} == 1 ]]; then
		export BUILD_DIR=${BUILD_DIR:-build-sanitize} CMAKE_BUILD_TYPE=Sanitize
		export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
		export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	fi
	export BUILD_DIR=${BUILD_DIR:-build}
	"$REPO/scripts/build.sh"

	mkdir -p "$OUT_DIR"
	SOAK_VAR_DIR=$OUT_DIR/run-$$
	export VAR_DIR=$SOAK_VAR_DIR CRAFT_VAR_DIR=$SOAK_VAR_DIR
	pick_free_ports POSTGRES_PORT REDIS_PORT AUTH_PORT RECOMMENDATION_PORT PRODUCT_PORT FRONTEND_PORT \
		SOAK_AUTH_B_PORT SOAK_PRODUCT_B_PORT SOAK_FRONTEND_B_PORT \
		SOAK_LB_SHOP_PORT SOAK_LB_AUTH_PORT SOAK_LB_PRODUCT_PORT
	INTERNAL_API_KEY=soak-$(rand_hex 16)
	export INTERNAL_API_KEY
	export DEPLOYMENT_ENVIRONMENT=development LOG_LEVEL=${LOG_LEVEL:-warn}
	export BCRYPT_COST=${BCRYPT_COST:-10} CRAFT_PG_OPTS=${CRAFT_PG_OPTS--c fsync=off}
	"$STACK" pg-start
	"$STACK" redis-start
	"$STACK" migrate
	eval "$("$STACK" env)"
	export CRAFT_STACK=$STACK CRAFT_REPO=$REPO SOAK_SECONDS=$seconds SOAK_OUT_DIR=$OUT_DIR
	node "$REPO/soak/driver.mjs"
}

main "$@"
