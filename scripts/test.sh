#!/usr/bin/env bash
# Everything `make test` does: installs what is missing, builds, starts a stack of its
# own on free ports (its own PostgreSQL and Redis, state in var/test-<pid>), runs the unit
# tests (ctest), the system tests (tests/system) and the browser tests (tests/browser),
# and stops everything it started, also when a test fails or the run is interrupted.
#
#   scripts/test.sh                       every suite
#   scripts/test.sh unit|system|browser   only those suites (several may be given)
#   scripts/test.sh tests/system/x.test.js ...   only those node test files
#
# Settings: BUILD_DIR (default build), CMAKE_BUILD_TYPE (default RelWithDebInfo),
# HEALTH_TIMEOUT (default 60 s per service), CRAFT_TEST_TIMEOUT (default 1800 s per
# node run), CRAFT_NODE_TEST_TIMEOUT (default 120000 ms per node test), CI=true for
# section headers and timings.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$CRAFT_REPO
STACK=$REPO/scripts/stack.sh
SERVICES=(auth recommendation product frontend)

declare -A WANT=()
SYSTEM_FILES=()
BROWSER_FILES=()
FAILED=()
RAN=
TEST_VAR_DIR= # set once the test stack has a state folder: what cleanup stops and removes
PASSED_N=0 FAILED_N=0 SKIPPED_N=0

parse_args() {
	local arg
	for arg in "$@"; do
		case $arg in
		unit | system | browser) WANT[$arg]=1 ;;
		*.js | *.mjs)
			[[ -f $arg ]] || die "no such test file: $arg"
			case $(realpath "$arg") in
			"$REPO"/tests/browser/*) BROWSER_FILES+=("$(realpath "$arg")") WANT[browser]=1 ;;
			*) SYSTEM_FILES+=("$(realpath "$arg")") WANT[system]=1 ;;
			esac
			;;
		-h | --help)
			sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
			exit 0
			;;
		*) die "unknown argument '$arg' (unit, system, browser or test files)" ;;
		esac
	done
	if ((${#WANT[@]} == 0)); then
		WANT=([unit]=1 [system]=1 [browser]=1)
	fi
}

# test_files DIR: the node test files under DIR, sorted.
test_files() {
	[[ -d $1 ]] || return 0
	find "$1" -path '*/node_modules' -prune -o -type f \
		\( -name '*.test.js' -o -name '*.test.mjs' \) -print | sort
}


# count_ctest FILE RC and count_node FILE RC: add a runner's closing figures to the totals
# (a runner that failed without saying how counts as one failure).
count_ctest() {
	local line total=0 failed=0
	line=$(grep -E '[0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1 || true)
	if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
		failed=${BASH_REMATCH[1]}
		total=${BASH_REMATCH[2]}
	fi
	PASSED_N=$((PASSED_N + total - failed))
	((failed == 0 && $2 != 0)) && failed=1
	FAILED_N=$((FAILED_N + failed))
}

count_node() {
	local kind n pass=0 fail=0 skip=0
	while read -r _ kind n; do
		case $kind in
		pass) pass=$n ;;
		fail | cancelled) fail=$((fail + n)) ;;
		skipped | todo) skip=$((skip + n)) ;;
		esac
	done < <(grep -E '^(ℹ|#) (pass|fail|cancelled|skipped|todo) [0-9]+$' "$1" || true)
	((fail == 0 && $2 != 0)) && fail=1
	PASSED_N=$((PASSED_N + pass))
	FAILED_N=$((FAILED_N + fail))
	SKIPPED_N=$((SKIPPED_N + skip))
}

# run_node NAME FILE...: node's test runner, one file at a time, bounded in time.
run_node() {
	local name=$1 out=$RESULTS/$1.out rc=0
	shift
	local flags=(--test --test-reporter=spec)
	node --test-concurrency=1 -e 0 2>/dev/null && flags+=(--test-concurrency=1)
	node --test-timeout=1000 -e 0 2>/dev/null && flags+=(--test-timeout="${CRAFT_NODE_TEST_TIMEOUT:-120000}")
	(cd "$REPO" && timeout --foreground -k 10 "${CRAFT_TEST_TIMEOUT:-1800}" \
		node "${flags[@]}" "$@") 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
	RAN=1
	count_node "$out" "$rc"
	((rc == 0)) || FAILED+=("$name")
}

print_log_tails() {
	local f
	shopt -s nullglob
	for f in "$TEST_VAR_DIR"/log/*.log; do
		say ""
		say "---- last lines of ${f#"$REPO"/}"
		tail -n 40 "$f" >&2
	done
	shopt -u nullglob
}

# Sanitizer reports land in the services' logs (stderr), also at exit after `down`.
sanitizer_findings() {
	shopt -s nullglob
	local logs=("$TEST_VAR_DIR"/log/*.log)
	shopt -u nullglob
	((${#logs[@]} > 0)) || return 1
	grep -l -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer' \
		"${logs[@]}" 2>/dev/null
}

cleanup() {
	local rc=$?
	trap '' INT TERM
	trap - EXIT
	if [[ -n $TEST_VAR_DIR && -d $TEST_VAR_DIR ]]; then
		section stop
		VAR_DIR=$TEST_VAR_DIR "$STACK" down || {
			warn "the test stack did not stop cleanly"
			rc=1
		}
		local found
		if found=$(sanitizer_findings); then
			say "sanitizer reports in: $found"
			FAILED+=(sanitizer)
			FAILED_N=$((FAILED_N + 1))
			rc=1
		fi
		if ((rc == 0)); then
			rm -rf "$TEST_VAR_DIR"
		else
			print_log_tails
			say ""
			say "kept the test stack's state and logs in ${TEST_VAR_DIR#"$REPO"/}"
		fi
	fi
	section_report
	((${#FAILED[@]} == 0)) || say "failed: ${FAILED[*]}"
	((rc == 0)) || [[ ${#FAILED[@]} -gt 0 ]] || say "failed (exit status $rc)"
	if [[ -n $RAN ]]; then
		# One closing line for the whole run, after every runner's own.
		printf 'total: %d passed, %d failed, %d skipped\n' "$PASSED_N" "$FAILED_N" "$SKIPPED_N"
	fi
	exit "$rc"
}

# The test stack takes nothing from the caller that decides where things run.
isolate_env() {
	unset VAR_DIR CRAFT_VAR_DIR DATABASE_URL HOST POSTGRES_HOST POSTGRES_USER \
		POSTGRES_PASSWORD POSTGRES_DB REDIS_HOST AUTH_SERVICE_URL PRODUCTS_API_BASE_URI \
		RECOMMENDATION_BASE_URI VOTING_BASE_URI BASE_URL JWT_ISSUER JWT_AUDIENCE \
		RSA_PRIVATE_KEY_PATH RSA_PUBLIC_KEY_PATH AUTH_URL PRODUCT_URL RECOMMENDATION_URL \
		FRONTEND_URL
}

main() {
	parse_args "$@"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	export BUILD_DIR CMAKE_BUILD_TYPE
	BUILD_DIR=$(abs_path "${BUILD_DIR:-build}")
	CMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo}

	section deps
	if [[ -n ${WANT[system]:-}${WANT[browser]:-} ]]; then
		"$REPO/scripts/deps.sh" --test
	else
		"$REPO/scripts/deps.sh"
	fi

	section build
	"$REPO/scripts/build.sh"

	section stack
	isolate_env
	pick_free_ports POSTGRES_PORT REDIS_PORT AUTH_PORT RECOMMENDATION_PORT PRODUCT_PORT FRONTEND_PORT
	TEST_VAR_DIR=$REPO/var/test-$$
	export VAR_DIR=$TEST_VAR_DIR
	export CRAFT_VAR_DIR=$TEST_VAR_DIR
	INTERNAL_API_KEY=test-$(rand_hex 16)
	export INTERNAL_API_KEY
	# Test-sized settings: a cheaper bcrypt (same code path) and short login
	# windows so the brute-force tests can see the 429 end.
	export BCRYPT_COST=${BCRYPT_COST:-10}
	export LOGIN_WINDOW_SECONDS=${LOGIN_WINDOW_SECONDS:-4}
	# Every test registers from this one address, and one races 20 registrations of
	# a name to the database: the per-client limit and the registration queue's bound
	# are proved by tests that restart auth with their own.
	export REGISTER_MAX_PER_CLIENT=${REGISTER_MAX_PER_CLIENT:-100000}
	export BCRYPT_REGISTER_QUEUE=${BCRYPT_REGISTER_QUEUE:-64}
	export HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
	export CRAFT_PG_OPTS=${CRAFT_PG_OPTS--c fsync=off}
	if [[ $CMAKE_BUILD_TYPE == Sanitize ]]; then
		export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
	fi
	RESULTS=$VAR_DIR/results
	mkdir -p "$RESULTS"
	say "test stack in ${VAR_DIR#"$REPO"/}: PostgreSQL $POSTGRES_PORT, Redis $REDIS_PORT," \
		"auth $AUTH_PORT, recommendation $RECOMMENDATION_PORT, product $PRODUCT_PORT," \
		"frontend $FRONTEND_PORT"
	"$STACK" pg-start
	"$STACK" redis-start
	"$STACK" migrate
	eval "$("$STACK" env)"
	export CRAFT_TEST_DATABASE_URL=$DATABASE_URL
	export CRAFT_TEST_REDIS_PORT=$REDIS_PORT
	export CRAFT_STACK=$STACK CRAFT_REPO=$REPO

	if [[ -n ${WANT[unit]:-} ]]; then
		section unit
		local rc=0
		ctest --test-dir "$BUILD_DIR" --output-on-failure 2>&1 | tee "$RESULTS/ctest.out" ||
			rc=${PIPESTATUS[0]}
		RAN=1
		count_ctest "$RESULTS/ctest.out" "$rc"
		((rc == 0)) || FAILED+=(unit)
	fi

	[[ -n ${WANT[system]:-}${WANT[browser]:-} ]] || return 0

	section services
	local svc
	for svc in "${SERVICES[@]}"; do
		if [[ ! -x $BUILD_DIR/services/$svc/craft-$svc ]]; then
			say "$svc is not built yet: skipped"
			continue
		fi
		if ! "$STACK" svc-start "$svc"; then
			FAILED+=("start-$svc")
			FAILED_N=$((FAILED_N + 1))
		fi
	done
	"$STACK" status || true

	if [[ -n ${WANT[system]:-} ]]; then
		section system
		((${#SYSTEM_FILES[@]} > 0)) || mapfile -t SYSTEM_FILES < <(test_files "$REPO/tests/system")
		if ((${#SYSTEM_FILES[@]} == 0)); then
			say "no system tests yet (tests/system/*.test.js)"
		else
			run_node system "${SYSTEM_FILES[@]}"
		fi
	fi

	if [[ -n ${WANT[browser]:-} ]]; then
		section browser
		((${#BROWSER_FILES[@]} > 0)) || mapfile -t BROWSER_FILES < <(test_files "$REPO/tests/browser")
		if ((${#BROWSER_FILES[@]} == 0)); then
			say "no browser tests yet (tests/browser/*.test.js)"
		else
			export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
			run_node browser "${BROWSER_FILES[@]}"
		fi
	fi
}

main "$@"
((${#FAILED[@]} == 0))
