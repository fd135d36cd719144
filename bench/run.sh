#!/usr/bin/env bash
# What `make bench` does: builds a Release tree with the ceiling servers (build-bench),
# starts a stack of its own on free ports (state in var/bench-<pid>), measures the
# ceilings and our endpoints with wrk in the same run, writes bench/results/report.md
# and prints it. Everything it started is stopped on exit, also on failure or Ctrl-C.
# Benchmarks are not tests: nothing here passes or fails on a number.
#
# Settings (environment):
#   BENCH_DURATION           seconds per measurement (default 10)
#   BENCH_WARMUP             seconds of warm-up before each measurement (default 2)
#   BENCH_THREADS            wrk threads (default 2)
#   BENCH_CONNECTIONS        wrk connections (default 16)
#   BENCH_LOGIN_CONNECTIONS  connections of the login throughput run (default 4)
#   BENCH_BCRYPT_SECONDS     length of the bcrypt ceiling measurement (default 5)
#   BCRYPT_COST (default 12), LOG_LEVEL (default warn), THREADS (default 0 = one per
#   core, for the services and the ceilings alike), BUILD_DIR (default build-bench)
set -euo pipefail
# shellcheck source=../scripts/lib.sh disable=SC1091 # followed with shellcheck -x
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

REPO=$CRAFT_REPO
STACK=$REPO/scripts/stack.sh
LUA=$REPO/bench/wrk.lua
OUT_DIR=$REPO/bench/results
REPORT=$OUT_DIR/report.md
RAW_DIR=$OUT_DIR/raw
ROWS=$OUT_DIR/rows.tsv
CEILING_KEY=craftista:bench:ceiling
BENCH_USER=bench_user

BENCH_VAR_DIR= # set once the stack has a state folder: what cleanup stops and removes
STORM_PID=
declare -A CEILING_PID=()
declare -A CEILING_RPS=()
NOTES=()

# ---------------------------------------------------------------- settings

# seconds NAME DEFAULT: a positive whole number of seconds from $NAME ("10" or "10s").
seconds() {
	local value=${!1:-$2}
	value=${value%s}
	if [[ ! $value =~ ^[0-9]+$ ]] || ((10#$value == 0)); then
		die "$1 must be a number of seconds"
	fi
	printf '%s\n' "$((10#$value))"
}

count() {
	local value=${!1:-$2}
	if [[ ! $value =~ ^[0-9]+$ ]] || ((10#$value == 0)); then
		die "$1 must be a positive number"
	fi
	printf '%s\n' "$((10#$value))"
}

read_settings() {
	DURATION=$(seconds BENCH_DURATION 10)
	WARMUP=$(seconds BENCH_WARMUP 2)
	WRK_THREADS=$(count BENCH_THREADS 2)
	CONNECTIONS=$(count BENCH_CONNECTIONS 16)
	LOGIN_CONNECTIONS=$(count BENCH_LOGIN_CONNECTIONS 4)
	BCRYPT_SECONDS=$(seconds BENCH_BCRYPT_SECONDS 5)
	BUILD_DIR=$(abs_path "${BUILD_DIR:-build-bench}")
	CORES=$(nproc)
	export BUILD_DIR
	export BCRYPT_COST=${BCRYPT_COST:-12}
	export LOG_LEVEL=${LOG_LEVEL:-warn}
	export THREADS=${THREADS:-0}
}

# ---------------------------------------------------------------- processes

# The stack takes nothing from the caller that decides where things run.
isolate_env() {
	unset VAR_DIR CRAFT_VAR_DIR DATABASE_URL HOST POSTGRES_HOST POSTGRES_USER \
		POSTGRES_PASSWORD POSTGRES_DB REDIS_HOST AUTH_SERVICE_URL PRODUCTS_API_BASE_URI \
		RECOMMENDATION_BASE_URI VOTING_BASE_URI BASE_URL JWT_ISSUER JWT_AUDIENCE \
		RSA_PRIVATE_KEY_PATH RSA_PUBLIC_KEY_PATH AUTH_URL PRODUCT_URL RECOMMENDATION_URL \
		FRONTEND_URL
}

# http_code URL: the status of GET URL, 000 when nothing answers.
http_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

# start_ceiling NAME PORT ARG...: start build-bench's ceiling-NAME in the background and
# wait until it answers on PORT.
start_ceiling() {
	local name=$1 port=$2 bin=$BUILD_DIR/bench/ceilings/ceiling-$1 log i pid
	shift 2
	log=$BENCH_VAR_DIR/log/ceiling-$name.log
	[[ -x $bin ]] || die "$bin is missing (the build has no -DCRAFT_BENCH=ON?)"
	"$bin" "$port" "$@" >>"$log" 2>&1 </dev/null &
	pid=$!
	CEILING_PID[$name]=$pid
	for ((i = 0; i < 100; i++)); do
		pid_alive "$pid" || break
		[[ $(http_code "http://127.0.0.1:$port/") != 000 ]] && return 0
		sleep 0.1
	done
	tail -n 20 "$log" >&2
	die "ceiling-$name did not start on port $port"
}

stop_ceilings() {
	local name
	for name in "${!CEILING_PID[@]}"; do
		stop_pid "${CEILING_PID[$name]}" TERM 10 "ceiling-$name" || true
		wait "${CEILING_PID[$name]}" 2>/dev/null || true
	done
	CEILING_PID=()
}

cleanup() {
	local rc=$?
	trap '' INT TERM
	trap - EXIT
	if [[ -n $STORM_PID ]]; then
		stop_pid "$STORM_PID" TERM 5 "wrk (login storm)" || true
		wait "$STORM_PID" 2>/dev/null || true
	fi
	stop_ceilings
	if [[ -n $BENCH_VAR_DIR && -d $BENCH_VAR_DIR ]]; then
		VAR_DIR=$BENCH_VAR_DIR "$STACK" down || {
			warn "the benchmark stack did not stop cleanly"
			rc=1
		}
		# Kept after a failure for its logs; removed after success or an interrupt.
		if ((rc == 0 || rc == 130 || rc == 143)); then
			rm -rf "$BENCH_VAR_DIR"
		else
			say "kept the benchmark stack's state and logs in ${BENCH_VAR_DIR#"$REPO"/}"
		fi
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- set-up

build() {
	mkdir -p "$OUT_DIR"
	"$REPO/scripts/deps.sh"
	if ! command -v wrk >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=600 \
			--no-install-recommends wrk >/dev/null ||
			die "wrk is missing and cannot be installed (apt-get install wrk)"
	fi
	say "building (Release, with the ceilings) into ${BUILD_DIR#"$REPO"/}"
	if ! CMAKE_BUILD_TYPE=Release CMAKE_ARGS="-DCRAFT_BENCH=ON -DCRAFT_TESTS=OFF" \
		"$REPO/scripts/build.sh" >"$OUT_DIR/build.log" 2>&1; then
		tail -n 40 "$OUT_DIR/build.log" >&2
		die "the build failed (log: ${OUT_DIR#"$REPO"/}/build.log)"
	fi
}

start_stack() {
	isolate_env
	pick_free_ports POSTGRES_PORT REDIS_PORT AUTH_PORT RECOMMENDATION_PORT PRODUCT_PORT FRONTEND_PORT HELLO_PORT REDIS_CEILING_PORT PG_CEILING_PORT
	BENCH_VAR_DIR=$REPO/var/bench-$$
	export VAR_DIR=$BENCH_VAR_DIR CRAFT_VAR_DIR=$BENCH_VAR_DIR
	INTERNAL_API_KEY=bench-$(rand_hex 16)
	export INTERNAL_API_KEY
	export HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
	mkdir -p "$BENCH_VAR_DIR/log"
	say "benchmark stack in ${BENCH_VAR_DIR#"$REPO"/}: PostgreSQL $POSTGRES_PORT," \
		"Redis $REDIS_PORT, auth $AUTH_PORT, recommendation $RECOMMENDATION_PORT," \
		"product $PRODUCT_PORT, frontend $FRONTEND_PORT"
	"$STACK" up >"$BENCH_VAR_DIR/up.out"
	eval "$("$STACK" env)"
}

start_ceilings() {
	start_ceiling hello "$HELLO_PORT"
	start_ceiling redis "$REDIS_CEILING_PORT" 127.0.0.1 "$REDIS_PORT" "$CEILING_KEY"
	start_ceiling pg "$PG_CEILING_PORT" "$DATABASE_URL" 1
}

# The Redis ceiling answers the same bytes as GET /api/products/1.
seed_ceiling_key() {
	local body
	body=$(curl -sf --max-time 5 "$PRODUCT_URL/api/products/1") ||
		die "GET /api/products/1 failed: is the catalogue migrated?"
	printf '%s' "$body" | redis-cli -h 127.0.0.1 -p "$REDIS_PORT" -x SET "$CEILING_KEY" >/dev/null ||
		die "cannot SET $CEILING_KEY in Redis"
}

# A registered user for the login runs; its JSON login body in LOGIN_BODY.
register_user() {
	local password code
	password=bench-$(rand_hex 12)
	code=$(curl -s -o "$BENCH_VAR_DIR/register.out" -w '%{http_code}' --max-time 30 \
		-H 'Content-Type: application/json' -H "X-Internal-API-Key: $INTERNAL_API_KEY" \
		--data "{\"username\":\"$BENCH_USER\",\"email\":\"$BENCH_USER@example.com\",\"password\":\"$password\"}" \
		"$AUTH_URL/api/auth/register" || true)
	[[ $code == 200 || $code == 201 ]] || die "registering $BENCH_USER failed ($code): $(cat "$BENCH_VAR_DIR/register.out")"
	LOGIN_BODY="{\"username\":\"$BENCH_USER\",\"password\":\"$password\"}"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 \
		-H 'Content-Type: application/json' --data "$LOGIN_BODY" "$AUTH_URL/api/auth/login" || true)
	[[ $code == 200 ]] || die "logging in as $BENCH_USER failed ($code)"
}

# ---------------------------------------------------------------- measuring

# slug TEXT: TEXT as a file name.
slug() {
	local s=${1,,}
	s=${s//[^a-z0-9]/-}
	printf '%s\n' "$s"
}

# run_wrk OUT SECONDS CONNECTIONS URL [WRK_ARG...]: one wrk run, its output in OUT.
run_wrk() {
	local out=$1 secs=$2 conns=$3 url=$4
	shift 4
	wrk -t"$WRK_THREADS" -c"$conns" -d"${secs}s" --latency -s "$LUA" "$@" "$url" >"$out" 2>&1 || true
}

# record GROUP LABEL CEILING OUT: parse the BENCH line of wrk output OUT and add a row to
# ROWS (req/s, p50 and p99 in µs, failed requests). CEILING names the ceiling the row is
# compared with (hello, redis, pg, bcrypt) or '-'. Sets LAST_RPS and LAST_P99.
record() {
	local group=$1 label=$2 ceiling=$3 out=$4 line k v
	local -A f=()
	line=$(grep -m1 '^BENCH ' "$out" || true)
	if [[ -z $line ]]; then
		warn "$label: wrk printed no result (see ${out#"$REPO"/})"
		printf '%s\t%s\t%s\t-\t-\t-\t-\n' "$group" "$label" "$ceiling" >>"$ROWS"
		LAST_RPS=0 LAST_P99=0
		return 0
	fi
	local -a parts
	read -r -a parts <<<"${line#BENCH }"
	for k in "${parts[@]}"; do
		v=${k#*=}
		f[${k%%=*}]=$v
	done
	LAST_RPS=$(awk -v n="${f[requests]}" -v d="${f[duration_us]}" 'BEGIN { printf "%.3f", (d > 0 ? n / (d / 1e6) : 0) }')
	LAST_P99=${f[p99_us]}
	local failed=$((f[non2xx] + f[socket_errors] + f[timeouts]))
	((failed == 0)) || warn "$label: $failed of ${f[requests]} requests failed (non-2xx, socket errors or timeouts)"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$label" "$ceiling" "$LAST_RPS" \
		"${f[p50_us]}" "${f[p99_us]}" "$failed" >>"$ROWS"
}

# measure GROUP LABEL CEILING URL CONNECTIONS [WRK_ARG...]: warm up, measure, record.
measure() {
	local group=$1 label=$2 ceiling=$3 url=$4 conns=$5 out
	shift 5
	out=$RAW_DIR/$(slug "$group-$label").txt
	say "  $label: ${WARMUP}s warm-up, ${DURATION}s run"
	run_wrk /dev/null "$WARMUP" "$conns" "$url" "$@"
	run_wrk "$out" "$DURATION" "$conns" "$url" "$@"
	record "$group" "$label" "$ceiling" "$out"
}

measure_ceilings() {
	say "ceilings"
	measure Ceilings "hello (fixed JSON)" - "http://127.0.0.1:$HELLO_PORT/" "$CONNECTIONS"
	CEILING_RPS[hello]=$LAST_RPS
	measure Ceilings "Redis GET" hello "http://127.0.0.1:$REDIS_CEILING_PORT/" "$CONNECTIONS"
	CEILING_RPS[redis]=$LAST_RPS
	measure Ceilings "PostgreSQL prepared query" hello "http://127.0.0.1:$PG_CEILING_PORT/" \
		"$CONNECTIONS"
	CEILING_RPS[pg]=$LAST_RPS
}

measure_recommendation() {
	say "recommendation"
	measure Recommendation "GET /api/recommendations?limit=5" pg \
		"$RECOMMENDATION_URL/api/recommendations?limit=5" "$CONNECTIONS"
	measure Recommendation "GET /api/origami-of-the-day" pg \
		"$RECOMMENDATION_URL/api/origami-of-the-day" "$CONNECTIONS"
}

# cache_counters: hits misses bypassed of product's cache, from its /metrics.
cache_counters() {
	curl -s --max-time 5 "$PRODUCT_URL/metrics" | awk '
		$1 == "craft_product_cache_hits_total" { h = $2 }
		$1 == "craft_product_cache_misses_total" { m = $2 }
		$1 == "craft_product_cache_bypassed_total" { b = $2 }
		END { printf "%d %d %d\n", h, m, b }' || printf '0 0 0\n'
}

measure_product() {
	say "product"
	# One read fills the cache entry before the warm-up and the counters start.
	curl -s -o /dev/null --max-time 5 "$PRODUCT_URL/api/products/1" || true
	local h0 m0 b0 h1 m1 b1
	read -r h0 m0 b0 < <(cache_counters)
	measure Product "GET /api/products/1" redis "$PRODUCT_URL/api/products/1" "$CONNECTIONS"
	measure Product "GET /api/origamis/1/votes" redis "$PRODUCT_URL/api/origamis/1/votes" \
		"$CONNECTIONS"
	read -r h1 m1 b1 < <(cache_counters)
	NOTES+=("Product: during the two single-product runs (warm-up included) the cache counted $((h1 - h0)) hits, $((m1 - m0)) misses and $((b1 - b0)) reads that bypassed Redis.")
	measure Product "GET /api/products" pg "$PRODUCT_URL/api/products" "$CONNECTIONS"
}

# The login ceiling: one core's bcrypt checks per second at BCRYPT_COST, times the cores.
measure_bcrypt() {
	local out=$RAW_DIR/ceiling-bcrypt.txt rate
	say "  bcrypt ceiling: ${BCRYPT_SECONDS}s at cost $BCRYPT_COST"
	"$BUILD_DIR/bench/ceilings/ceiling-bcrypt" "$BCRYPT_COST" "$BCRYPT_SECONDS" >"$out" 2>&1 ||
		die "ceiling-bcrypt failed: $(cat "$out")"
	rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' "$out")
	CEILING_RPS[bcrypt]=$(awk -v r="$rate" -v c="$CORES" 'BEGIN { printf "%.3f", r * c }')
	printf 'Auth\tbcrypt check × %s cores (cost %s)\t-\t%s\t-\t-\t0\n' "$CORES" \
		"$BCRYPT_COST" "${CEILING_RPS[bcrypt]}" >>"$ROWS"
	NOTES+=("Auth: one core checks $(printf '%.2f' "$rate") bcrypt hashes/s at cost $BCRYPT_COST (crypt_rn, as a login does); the login ceiling is that × $CORES cores.")
}

measure_auth() {
	say "auth"
	measure Auth "GET /.well-known/jwks.json" hello "$AUTH_URL/.well-known/jwks.json" \
		"$CONNECTIONS"
	local jwks_p99=$LAST_P99
	measure_bcrypt
	BENCH_BODY=$LOGIN_BODY measure Auth "POST /api/auth/login (c$LOGIN_CONNECTIONS)" bcrypt \
		"$AUTH_URL/api/auth/login" "$LOGIN_CONNECTIONS" --timeout 30s

	# A login storm on all connections, and JWKS measured while it runs.
	say "  GET /.well-known/jwks.json during a login storm (c$CONNECTIONS)"
	local storm_out=$RAW_DIR/auth-login-storm.txt jwks_out=$RAW_DIR/auth-jwks-during-storm.txt
	BENCH_BODY=$LOGIN_BODY wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$((DURATION + 2))s" \
		--latency --timeout 30s -s "$LUA" "$AUTH_URL/api/auth/login" >"$storm_out" 2>&1 &
	STORM_PID=$!
	sleep 1
	run_wrk "$jwks_out" "$DURATION" "$CONNECTIONS" "$AUTH_URL/.well-known/jwks.json"
	wait "$STORM_PID" || true
	STORM_PID=
	record Auth "GET /.well-known/jwks.json during the login storm" hello "$jwks_out"
	local storm_p99=$LAST_P99
	record Auth "POST /api/auth/login (storm, c$CONNECTIONS)" bcrypt "$storm_out"
	if [[ $jwks_p99 =~ ^[0-9]+$ && $storm_p99 =~ ^[0-9]+$ ]] && ((jwks_p99 > 0)); then
		NOTES+=("Auth: JWKS p99 $(fmt_us "$storm_p99") during the login storm against $(fmt_us "$jwks_p99") alone ($(awk -v a="$storm_p99" -v b="$jwks_p99" 'BEGIN { printf "%.2f", a / b }')×); above 1, the logins' bcrypt work slows the HTTP threads.")
	fi
}

measure_frontend() {
	local bin=$BUILD_DIR/services/frontend/craft-frontend
	if [[ ! -x $bin ]]; then
		NOTES+=("Frontend: not built yet (${bin#"$REPO"/} is missing): GET / skipped.")
		return 0
	fi
	if [[ $(http_code "$FRONTEND_URL/health") != 200 ]]; then
		NOTES+=("Frontend: built but not answering GET /health: GET / skipped.")
		return 0
	fi
	say "frontend"
	measure Frontend "GET /" pg "$FRONTEND_URL/" "$CONNECTIONS"
}

# ---------------------------------------------------------------- the report

fmt_us() {
	awk -v u="$1" 'BEGIN {
		if (u !~ /^[0-9]+$/) { print "-"; exit }
		if (u < 1000) printf "%d µs\n", u
		else if (u < 1000000) printf "%.2f ms\n", u / 1000
		else printf "%.2f s\n", u / 1000000 }'
}

git_commit() {
	local commit dirty=
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) || {
		printf 'unknown\n'
		return 0
	}
	[[ -z $(GIT_OPTIONAL_LOCKS=0 git -C "$REPO" status --porcelain 2>/dev/null) ]] ||
		dirty=' (with uncommitted changes)'
	printf '%s%s\n' "$commit" "$dirty"
}

# table GROUP: the group's rows as a Markdown table.
table() {
	local ceilings=
	ceilings="hello=${CEILING_RPS[hello]:-0} redis=${CEILING_RPS[redis]:-0} pg=${CEILING_RPS[pg]:-0} bcrypt=${CEILING_RPS[bcrypt]:-0}"
	printf '| endpoint | req/s | p50 | p99 | ceiling | ratio | failed |\n'
	printf '|---|---:|---:|---:|---|---:|---:|\n'
	awk -F'\t' -v g="$1" -v ceil="$ceilings" '
		function rps(x) {
			if (x !~ /^[0-9.]+$/) return "-"
			return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x)
		}
		function us(u) {
			if (u !~ /^[0-9]+$/) return "-"
			if (u < 1000) return sprintf("%d µs", u)
			if (u < 1000000) return sprintf("%.2f ms", u / 1000)
			return sprintf("%.2f s", u / 1000000)
		}
		BEGIN {
			n = split(ceil, kv, " ")
			for (i = 1; i <= n; i++) { split(kv[i], p, "="); c[p[1]] = p[2] }
			name["hello"] = "hello"; name["redis"] = "Redis GET"
			name["pg"] = "PostgreSQL query"; name["bcrypt"] = "bcrypt × cores"
		}
		$1 == g {
			ce = "-"; ratio = "-"
			if ($3 != "-") {
				ce = sprintf("%s (%s/s)", name[$3], rps(c[$3]))
				if ($4 ~ /^[0-9.]+$/ && c[$3] > 0) ratio = sprintf("%.2f", $4 / c[$3])
			}
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, rps($4), us($5), us($6), ce, ratio, $7
		}' "$ROWS"
}

write_report() {
	local cpu load_end group note
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	read -r load_end _ </proc/loadavg
	{
		printf '# Craftista benchmarks\n\n'
		printf -- '- date: %s\n' "$STARTED"
		printf -- '- commit: %s\n' "$(git_commit)"
		printf -- '- machine: %s cores, %s; load average %s at the start, %s at the end\n' \
			"$CORES" "${cpu:-unknown CPU}" "$LOAD_START" "$load_end"
		printf -- "- wrk: %s; \`-t%s -c%s -d%ss --latency\`, %ss warm-up before each run;" \
			"$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)" "$WRK_THREADS" "$CONNECTIONS" \
			"$DURATION" "$WARMUP"
		printf " logins \`-c%s --timeout 30s\`, the storm \`-c%s\`\n" "$LOGIN_CONNECTIONS" \
			"$CONNECTIONS"
		printf -- '- stack: Release build, THREADS=%s (0 = one per core, ceilings alike),' "$THREADS"
		printf ' BCRYPT_COST=%s, LOG_LEVEL=%s; wrk, servers, PostgreSQL and Redis share the cores\n\n' \
			"$BCRYPT_COST" "$LOG_LEVEL"
		printf 'ratio = the endpoint'"'"'s req/s ÷ its ceiling'"'"'s req/s, both from this run'
		printf ' (see bench/README.md). failed = non-2xx answers, socket errors and timeouts.\n'
		for group in Ceilings Recommendation Product Auth Frontend; do
			grep -q "^$group"$'\t' "$ROWS" || continue
			printf '\n## %s\n\n' "$group"
			table "$group"
		done
		if ((${#NOTES[@]} > 0)); then
			printf '\n## Notes\n\n'
			for note in "${NOTES[@]}"; do
				printf -- '- %s\n' "$note"
			done
		fi
	} >"$REPORT"
}

main() {
	case ${1:-} in
	'') ;;
	-h | --help)
		sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		return 0
		;;
	*) die "usage: bench/run.sh (settings come from the environment; see --help)" ;;
	esac
	read_settings
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	read -r LOAD_START _ </proc/loadavg
	build
	rm -rf "$RAW_DIR"
	mkdir -p "$RAW_DIR"
	: >"$ROWS"
	start_stack
	start_ceilings
	seed_ceiling_key
	register_user
	measure_ceilings
	measure_recommendation
	measure_product
	measure_auth
	measure_frontend
	write_report
	say ""
	cat "$REPORT"
}

main "$@"
