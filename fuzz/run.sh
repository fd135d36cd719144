#!/usr/bin/env bash
# Build the libFuzzer targets and run each one for a bounded time.
#
#   fuzz/run.sh [SECONDS]      seconds per target (default 60)
#
# Environment:
#   FUZZ_TARGETS="fuzz_jwt fuzz_form"   run only these (default: every fuzz/fuzz_*.c)
#   FUZZ_BUILD_DIR=dir                  build directory (default: build-fuzz)
#   FUZZ_MERGE=1                        merge inputs that add coverage into fuzz/corpus/<target>/
#   CC=...                              compiler for the first configure (default: clang)
#
# Each target fuzzes a scratch copy of its seed corpus (FUZZ_BUILD_DIR/corpus/<target>/,
# kept between runs); crash, leak, timeout and OOM inputs are saved as
# FUZZ_BUILD_DIR/crashes/<target>-<kind>-<sha1>. Exits non-zero when any target fails.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: fuzz/run.sh [SECONDS per target]" >&2
	exit 2
fi

# Longest input per target: a little past the bound each parser enforces.
max_len_for() {
	case $1 in
	fuzz_traceparent) echo 1200 ;;   # tracestate bound 512
	fuzz_jwt) echo 9000 ;;           # CRAFT_JWT_MAX_LEN 8192
	fuzz_router) echo 2200 ;;        # CRAFT_ROUTE_MAX_PATH 2048
	fuzz_json_body) echo 16384 ;;
	fuzz_template) echo 8192 ;;
	fuzz_static_path) echo 1024 ;;
	*) echo 4096 ;;
	esac
}

CC=${CC:-clang} cmake -S "$root" -B "$build" -DCRAFT_FUZZ=ON -DCRAFT_TESTS=OFF >/dev/null
cmake --build "$build" --target craft-fuzz -j "$(nproc)" >/dev/null

if [[ -n ${FUZZ_TARGETS:-} ]]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
else
	targets=()
	for src in "$root"/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		[[ -x $build/fuzz/$name ]] && targets+=("$name")
	done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/crashes" "$build/logs"
failed=0
printf '%-18s %12s %8s  %s\n' target runs corpus result
for t in "${targets[@]}"; do
	bin=$build/fuzz/$t
	if [[ ! -x $bin ]]; then
		printf '%-18s %12s %8s  %s\n' "$t" - - "MISSING (not built)"
		failed=1
		continue
	fi
	corpus=$build/corpus/$t
	log=$build/logs/$t.log
	mkdir -p "$corpus"
	[[ -d $root/fuzz/corpus/$t ]] && cp -n "$root/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
	args=(-max_total_time="$seconds" -max_len="$(max_len_for "$t")" -timeout=10
	      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-")
	[[ -f $root/fuzz/dict/$t.dict ]] && args+=(-dict="$root/fuzz/dict/$t.dict")
	rc=0
	"$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	entries=$(find "$corpus" -type f | wc -l)
	if ((rc == 0)); then
		result=ok
		if [[ ${FUZZ_MERGE:-0} == 1 ]]; then
			mkdir -p "$root/fuzz/corpus/$t"
			"$bin" -merge=1 -max_len="$(max_len_for "$t")" "$root/fuzz/corpus/$t" "$corpus" \
				>>"$log" 2>&1 && result="ok, merged"
		fi
	else
		failed=1
		artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
		result="FAILED (exit $rc) ${artifact:-see $log}"
	fi
	printf '%-18s %12s %8s  %s\n' "$t" "${runs:-?}" "$entries" "$result"
done
if ((failed)); then
	echo "fuzz: failures above; logs in $build/logs, inputs in $build/crashes" >&2
	echo "reproduce one with: $build/fuzz/<target> <input>" >&2
fi
exit "$failed"
