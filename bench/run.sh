#!/usr/bin/env bash
# What `make bench` does: builds a Release tree with the ceiling servers (build-bench),
# starts a stack of its own on free ports (state in var/bench-<pid>), times each
# service's start, measures the ceilings and our endpoints with wrk and pgbench in the
# same run (alone, then four endpoints at once), writes bench/results/report.md with a
# dated copy and a chart of the ratios, and prints the report. Everything it started is
# stopped on exit, also on failure or Ctrl-C.
# Benchmarks are not tests: nothing here passes or fails on a number.
#
# Settings (environment):
#   BENCH_DURATION           seconds per measurement (default 10)
#   BENCH_WARMUP             seconds of warm-up before each measurement (default 2)
#   BENCH_THREADS            wrk threads, and pgbench's (default 2)
#   BENCH_CONNECTIONS        wrk connections (default 64)
#   BENCH_LOGIN_CONNECTIONS  connections of the login throughput run (default 4)
#   BENCH_BCRYPT_SECONDS     length of the bcrypt ceiling measurement (default 5)
#   BENCH_VOTE_USERS         distinct users (= connections) voting, and pgbench's clients
#                            (default 64)
#   BENCH_MIXED_SECONDS      length of the mixed-load run (default 30)
#   BENCH_MIXED_CONNECTIONS  connections per endpoint in the mixed-load run (default 64)
#   BENCH_STARTS             timed starts per service (default 5)
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
VOTER_PREFIX=bench_voter_
UPDATE_TABLE=craft_bench_update
SERVICES=(auth product recommendation frontend)

# The issue's targets: key, then the ratio to the row's ceiling that we aim for.
TARGET_KEYS=(page list item daily votes)
declare -A TARGET=([page]=0.1 [list]=0.6 [item]=0.8 [daily]=0.5 [votes]=0.5)

BENCH_VAR_DIR= # set once the stack has a state folder: what cleanup stops and removes
STORM_PID=
MIXED_PIDS=()
TICK_FD=
declare -A CEILING_PID=()
declare -A CEILING_RPS=()
declare -A READY=()    # service -> "median min max" in ms
declare -A RSS_IDLE=() # service -> kB
declare -A RSS_LOAD=() # service -> kB
NOTES=()
AUDITS=()

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
	CONNECTIONS=$(count BENCH_CONNECTIONS 64)
	LOGIN_CONNECTIONS=$(count BENCH_LOGIN_CONNECTIONS 4)
	BCRYPT_SECONDS=$(seconds BENCH_BCRYPT_SECONDS 5)
	VOTE_USERS=$(count BENCH_VOTE_USERS 64)
	MIXED_SECONDS=$(seconds BENCH_MIXED_SECONDS 30)
	MIXED_CONNECTIONS=$(count BENCH_MIXED_CONNECTIONS 64)
	STARTS=$(count BENCH_STARTS 5)
	BUILD_DIR=$(abs_path "${BUILD_DIR:-build-bench}")
	unset BENCH_BODY BENCH_VOTES ROW_KEY # wrk.lua's and record's, set per run only
	CORES=$(nproc)
	export BUILD_DIR
	export BCRYPT_COST=${BCRYPT_COST:-12}
	# The voters all register from this machine: lift the per-client registration
	# limit that protects a public deployment (it is not what is measured here).
	export REGISTER_MAX_PER_CLIENT=${REGISTER_MAX_PER_CLIENT:-100000}
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
		FRONTEND_URL PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSERVICE
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

# stop_background PID LABEL: stop one of our background jobs (they ignore SIGINT).
stop_background() {
	stop_pid "$1" TERM 5 "$2" || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap '' INT TERM
	trap - EXIT
	[[ -z $STORM_PID ]] || stop_background "$STORM_PID" "wrk (login storm)"
	local pid
	for pid in "${MIXED_PIDS[@]}"; do
		stop_background "$pid" "wrk (mixed load)"
	done
	stop_ceilings
	if [[ -n $BENCH_VAR_DIR && -d $BENCH_VAR_DIR ]]; then
		# Also stops the services started by the timed starts: they are in its pid files.
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

# apt_get_install PACKAGE...: install Debian packages quietly (one update first).
apt_get_install() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 \
			--no-install-recommends "$@" >/dev/null
}

# pg_tool NAME: the path of PostgreSQL's client program NAME (psql, pgbench).
pg_tool() {
	local path
	path=$(command -v "$1" 2>/dev/null ||
		printf '%s\n' /usr/lib/postgresql/*/bin/"$1" | grep -v '\*' | sort -V | tail -n 1 || true)
	[[ -n $path && -x $path ]] || die "$1 is missing (it comes with postgresql-15: run scripts/deps.sh)"
	printf '%s\n' "$path"
}

build() {
	mkdir -p "$OUT_DIR"
	"$REPO/scripts/deps.sh"
	local want=() tool
	command -v wrk >/dev/null 2>&1 || want+=(wrk)
	command -v gnuplot >/dev/null 2>&1 || want+=(gnuplot-nox)
	if ((${#want[@]} > 0)); then
		say "installing: ${want[*]}"
		apt_get_install "${want[@]}" || warn "could not install ${want[*]}"
	fi
	command -v wrk >/dev/null 2>&1 || die "wrk is missing and cannot be installed (apt-get install wrk)"
	command -v gnuplot >/dev/null 2>&1 ||
		warn "gnuplot is missing (apt-get install gnuplot-nox): the report will have no chart"
	PSQL=$(pg_tool psql)
	PGBENCH=$(pg_tool pgbench)
	for tool in "$PSQL" "$PGBENCH"; do
		[[ -x $tool ]] || die "$tool is missing"
	done
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

# psql_q SQL: run SQL on the stack's database, unaligned output without headers.
psql_q() {
	"$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"
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

# curl_batch CONFIG: run the transfers of curl config file CONFIG a few at a time (one
# foreground curl, so Ctrl-C stops it); prints one status code per transfer.
curl_batch() {
	curl -s --parallel --parallel-max "$((CORES * 2))" -K "$1" 2>>"$BENCH_VAR_DIR/log/curl.log" || true
}

# register_voters N: register N users through auth's internal endpoint and log each in.
# VOTES_FILE gets one line per user: the access token and the origami that user votes
# for (users are spread over the catalogue, a few per origami).
register_voters() {
	local n=$1 dir=$BENCH_VAR_DIR/voters password i name ok token
	local -a ids
	mapfile -t ids < <(psql_q "SELECT id FROM products ORDER BY id")
	((${#ids[@]} > 0)) || die "the catalogue is empty: nothing to vote for"
	mkdir -p "$dir"
	chmod 700 "$dir"
	password=bench-$(rand_hex 12)
	say "registering and logging in $n users"
	for ((i = 0; i < n; i++)); do
		name=$VOTER_PREFIX$i
		((i == 0)) || printf 'next\n'
		printf 'url = "%s/api/auth/register"\n' "$AUTH_URL"
		printf 'header = "Content-Type: application/json"\n'
		printf 'header = "X-Internal-API-Key: %s"\n' "$INTERNAL_API_KEY"
		printf 'data = "{\\"username\\":\\"%s\\",\\"email\\":\\"%s@example.com\\",\\"password\\":\\"%s\\"}"\n' \
			"$name" "$name" "$password"
		printf 'output = "/dev/null"\nmax-time = 120\nsilent\nwrite-out = "%%{http_code}\\n"\n'
	done >"$dir/register.curl"
	ok=$(curl_batch "$dir/register.curl" | grep -c '^20[01]$' || true)
	((ok == n)) || die "registered $ok of $n users (log: ${BENCH_VAR_DIR#"$REPO"/}/log/auth.log)"
	for ((i = 0; i < n; i++)); do
		name=$VOTER_PREFIX$i
		((i == 0)) || printf 'next\n'
		printf 'url = "%s/api/auth/login"\n' "$AUTH_URL"
		printf 'header = "Content-Type: application/json"\n'
		printf 'data = "{\\"username\\":\\"%s\\",\\"password\\":\\"%s\\"}"\n' "$name" "$password"
		printf 'output = "%s/login-%d.json"\nmax-time = 120\nsilent\nwrite-out = "%%{http_code}\\n"\n' \
			"$dir" "$i"
	done >"$dir/login.curl"
	ok=$(curl_batch "$dir/login.curl" | grep -c '^200$' || true)
	((ok == n)) || die "logged in $ok of $n users"
	VOTES_FILE=$dir/tokens
	for ((i = 0; i < n; i++)); do
		token=$(sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p' "$dir/login-$i.json")
		[[ -n $token ]] || die "no access_token in the login answer of $VOTER_PREFIX$i"
		printf '%s %s\n' "$token" "${ids[i % ${#ids[@]}]}"
	done >"$VOTES_FILE"
	VOTED_PRODUCTS=$((n < ${#ids[@]} ? n : ${#ids[@]}))
}

# ---------------------------------------------------------------- start to ready

# proc_alive PID: like pid_alive, without a fork (it runs in a polling loop).
proc_alive() {
	local stat state
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	state=${stat##*) }
	state=${state%% *}
	[[ $state != Z && $state != X ]]
}

# health_200 PORT: true when GET /health on PORT answers 200 (bash's /dev/tcp: no fork).
health_200() {
	local fd line=
	{ exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	{ printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' 1>&"$fd"; } 2>/dev/null || true
	read -r -t 2 -u "$fd" line 2>/dev/null || true
	exec {fd}>&-
	[[ $line == "HTTP/1."?" 200"* ]]
}

# start_timed NAME: start NAME's binary as scripts/stack.sh does (the stack's environment,
# the repository as working folder, a session of its own, output appended to its log,
# its pid in the stack's pid file so that `stack.sh down` stops it) and set READY_MS to
# the milliseconds from the exec to the first 200 on GET /health, polled every ~1 ms.
start_timed() {
	local name=$1 port_var port bin log pid t0 t1 deadline
	port_var=${name^^}_PORT
	port=${!port_var}
	bin=$BUILD_DIR/services/$name/craft-$name
	log=$BENCH_VAR_DIR/log/$name.log
	port_busy "$port" && die "port $port of $name is still taken"
	t0=$EPOCHREALTIME
	(
		exec {TICK_FD}>&- # the poll's timer stays ours
		cd "$REPO" && PORT=$port exec setsid "$bin"
	) >>"$log" 2>&1 </dev/null &
	pid=$!
	printf '%s\n' "$pid" >"$BENCH_VAR_DIR/run/$name.pid"
	deadline=$((SECONDS + HEALTH_TIMEOUT))
	until health_200 "$port"; do
		if ! proc_alive "$pid"; then
			tail -n 20 "$log" >&2
			die "$name exited during a timed start"
		fi
		((SECONDS < deadline)) || die "$name did not answer GET /health with 200 within ${HEALTH_TIMEOUT}s"
		read -r -t 0.001 -u "$TICK_FD" _ || true
	done
	t1=$EPOCHREALTIME
	READY_MS=$(awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
}

# rss_kb NAME: VmRSS of the running service NAME in kB, '-' when it is not running.
rss_kb() {
	local pid kb
	pid=$(read_pid "$BENCH_VAR_DIR/run/$1.pid")
	kb=
	[[ -n $pid ]] && kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status" 2>/dev/null)
	printf '%s\n' "${kb:--}"
}

# Each service: stopped with the stack's script, then started BENCH_STARTS times by
# start_timed (the last start stays up for the measurements); its idle RSS afterwards.
measure_starts() {
	local name i times
	say "start to ready: $STARTS starts of each service"
	mkfifo "$BENCH_VAR_DIR/tick"
	exec {TICK_FD}<>"$BENCH_VAR_DIR/tick"
	for name in "${SERVICES[@]}"; do
		if [[ -z $(read_pid "$BENCH_VAR_DIR/run/$name.pid") ]]; then
			NOTES+=("Start to ready: $name is not running in the stack (not built?): not timed.")
			continue
		fi
		times=()
		for ((i = 0; i < STARTS; i++)); do
			"$STACK" svc-stop "$name" >/dev/null 2>&1 || die "could not stop $name"
			start_timed "$name"
			times+=("$READY_MS")
		done
		READY[$name]=$(printf '%s\n' "${times[@]}" | sort -n |
			awk '{ v[NR] = $1 } END { printf "%s %s %s", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }')
		say "  $name: ${times[*]} ms"
	done
	exec {TICK_FD}>&-
	TICK_FD=
	sleep 1
	for name in "${SERVICES[@]}"; do
		RSS_IDLE[$name]=$(rss_kb "$name")
	done
}

# ---------------------------------------------------------------- measuring

# slug TEXT: TEXT as a file name.
slug() {
	local s=${1,,}
	s=${s//[^a-z0-9]/-}
	printf '%s\n' "$s"
}

# wrk_threads CONNECTIONS: wrk's -t: BENCH_THREADS, or one per connection in vote runs
# (wrk.lua gives each thread one user; see there).
wrk_threads() {
	if [[ -n ${BENCH_VOTES:-} ]]; then
		printf '%s\n' "$1"
	else
		printf '%s\n' "$WRK_THREADS"
	fi
}

# run_wrk OUT SECONDS CONNECTIONS URL [WRK_ARG...]: one wrk run, its output in OUT.
run_wrk() {
	local out=$1 secs=$2 conns=$3 url=$4
	shift 4
	wrk -t"$(wrk_threads "$conns")" -c"$conns" -d"${secs}s" --latency -s "$LUA" "$@" "$url" \
		>"$out" 2>&1 || true
}

# add_row GROUP LABEL CEILING RPS P50_US P99_US NON2XX SOCKET TIMEOUTS: one row of ROWS:
# group, label, ceiling (hello, redis, pg, pgupdate, bcrypt or '-'), req/s, p50 and p99
# in µs, failed requests, non-2xx, socket errors, timeouts, and the row's key in the
# targets ($ROW_KEY, '-' for none).
add_row() {
	local failed=-
	[[ $7$8$9 =~ ^[0-9]+$ ]] && failed=$(($7 + $8 + $9))
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" \
		"$failed" "$7" "$8" "$9" "${ROW_KEY:--}" >>"$ROWS"
}

# record GROUP LABEL CEILING OUT: parse the BENCH line of wrk output OUT and add a row.
# Sets LAST_RPS and LAST_P99.
record() {
	local group=$1 label=$2 ceiling=$3 out=$4 line k v
	local -A f=()
	line=$(grep -m1 '^BENCH ' "$out" || true)
	if [[ -z $line ]]; then
		warn "$label: wrk printed no result (see ${out#"$REPO"/})"
		add_row "$group" "$label" "$ceiling" - - - - - -
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
	((failed == 0)) || warn "$label: $failed of ${f[requests]} requests failed (${f[non2xx]} non-2xx, ${f[socket_errors]} socket errors, ${f[timeouts]} timeouts)"
	add_row "$group" "$label" "$ceiling" "$LAST_RPS" "${f[p50_us]}" "${f[p99_us]}" \
		"${f[non2xx]}" "${f[socket_errors]}" "${f[timeouts]}"
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

# run_pgbench OUT SECONDS SCRIPT [PGBENCH_ARG...]: one pgbench run on the stack's database
# with BENCH_VOTE_USERS clients, prepared statements, no vacuum.
run_pgbench() {
	local out=$1 secs=$2 script=$3
	shift 3
	"$PGBENCH" -n -M prepared -c "$VOTE_USERS" -j "$WRK_THREADS" -T "$secs" -f "$script" "$@" \
		"$DATABASE_URL" >"$out" 2>&1 || true
}

# The ceiling of a vote: pgbench's single-row UPDATE on a scratch table of its own (one
# row per client, so clients never wait for each other's row locks), dropped afterwards.
measure_pgbench_update() {
	local label="pgbench single-row UPDATE (c$VOTE_USERS)" rows script out logs tps tx failed
	local p50=- p99=-
	rows=$((VOTE_USERS > 64 ? VOTE_USERS : 64))
	script=$BENCH_VAR_DIR/pgbench-update.sql
	out=$RAW_DIR/$(slug "ceilings-$label").txt
	logs=$BENCH_VAR_DIR/pgbench-log
	psql_q "SET client_min_messages = warning; DROP TABLE IF EXISTS $UPDATE_TABLE;
		CREATE TABLE $UPDATE_TABLE (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
		INSERT INTO $UPDATE_TABLE (id) SELECT generate_series(1, $rows);" >/dev/null
	printf '\\set id :client_id + 1\nUPDATE %s SET n = n + 1 WHERE id = :id;\n' \
		"$UPDATE_TABLE" >"$script"
	say "  $label: ${WARMUP}s warm-up, ${DURATION}s run"
	run_pgbench /dev/null "$WARMUP" "$script"
	rm -rf "$logs"
	mkdir -p "$logs"
	# Per-transaction logs (column 3 is the latency in µs) give p50 and p99.
	run_pgbench "$out" "$DURATION" "$script" -l --log-prefix="$logs/tx"
	psql_q "DROP TABLE $UPDATE_TABLE" >/dev/null
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out" | tail -n 1)
	tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	if [[ -z $tps || -z $tx ]]; then
		warn "$label: pgbench printed no result (see ${out#"$REPO"/})"
		add_row Ceilings "$label" hello - - - - - -
		CEILING_RPS[pgupdate]=0
		return 0
	fi
	read -r p50 p99 < <(cat "$logs"/tx.* 2>/dev/null | awk '{ print $3 }' | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "- -"; exit }
			i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
			i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
			print v[i50], v[i99]
		}')
	rm -rf "$logs"
	CEILING_RPS[pgupdate]=$tps
	add_row Ceilings "$label" hello "$tps" "$p50" "$p99" "${failed:-0}" 0 0
	NOTES+=("Votes: pgbench \`-M prepared -c $VOTE_USERS -j $WRK_THREADS -T $DURATION\`, each client updating its own row of a $rows-row scratch table over TCP: $tx transactions.")
}

# audit WHEN: products.votes against the votes rows, now (after WHEN).
audit() {
	local when=$1 line total rows bad verdict
	sleep 1 # requests still in flight when wrk stopped
	line=$(psql_q "SELECT (SELECT coalesce(sum(votes), 0) FROM products),
		(SELECT count(*) FROM votes),
		(SELECT count(*) FROM products p
		  WHERE p.votes <> (SELECT count(*) FROM votes v WHERE v.product_id = p.id))") ||
		line='-|-|-'
	IFS='|' read -r total rows bad <<<"$line"
	if [[ $total == "$rows" && $bad == 0 ]]; then
		verdict=exact
	else
		verdict="**not exact**"
		warn "audit $when: sum(products.votes)=$total, votes rows=$rows, $bad products disagree"
	fi
	AUDITS+=("| $when | $total | $rows | $bad | $verdict |")
}

measure_votes() {
	say "votes"
	measure_pgbench_update
	ROW_KEY=votes BENCH_VOTES=$VOTES_FILE measure Votes \
		"vote + withdraw, $VOTE_USERS distinct users" pgupdate "$PRODUCT_URL/" "$VOTE_USERS"
	audit "the vote run"
}

measure_recommendation() {
	say "recommendation"
	measure Recommendation "GET /api/recommendations?limit=5" pg \
		"$RECOMMENDATION_URL/api/recommendations?limit=5" "$CONNECTIONS"
	ROW_KEY=daily measure Recommendation "GET /api/origami-of-the-day" hello \
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
	ROW_KEY=item measure Product "GET /api/products/1" redis "$PRODUCT_URL/api/products/1" \
		"$CONNECTIONS"
	measure Product "GET /api/origamis/1/votes" redis "$PRODUCT_URL/api/origamis/1/votes" \
		"$CONNECTIONS"
	read -r h1 m1 b1 < <(cache_counters)
	NOTES+=("Product: during the two single-product runs (warm-up included) the cache counted $((h1 - h0)) hits, $((m1 - m0)) misses and $((b1 - b0)) reads that bypassed Redis.")
	ROW_KEY=list measure Product "GET /api/products" redis "$PRODUCT_URL/api/products" \
		"$CONNECTIONS"
}

# The login ceiling: one core's bcrypt checks per second at BCRYPT_COST, times the cores.
measure_bcrypt() {
	local out=$RAW_DIR/ceiling-bcrypt.txt rate
	say "  bcrypt ceiling: ${BCRYPT_SECONDS}s at cost $BCRYPT_COST"
	"$BUILD_DIR/bench/ceilings/ceiling-bcrypt" "$BCRYPT_COST" "$BCRYPT_SECONDS" >"$out" 2>&1 ||
		die "ceiling-bcrypt failed: $(cat "$out")"
	rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' "$out")
	CEILING_RPS[bcrypt]=$(awk -v r="$rate" -v c="$CORES" 'BEGIN { printf "%.3f", r * c }')
	add_row Auth "bcrypt check × $CORES cores (cost $BCRYPT_COST)" - "${CEILING_RPS[bcrypt]}" \
		- - 0 0 0
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

# frontend_up: true when the frontend is built and healthy (notes why not otherwise).
frontend_up() {
	local bin=$BUILD_DIR/services/frontend/craft-frontend
	if [[ ! -x $bin ]]; then
		NOTES+=("Frontend: not built yet (${bin#"$REPO"/} is missing): GET / skipped.")
		return 1
	fi
	if [[ $(http_code "$FRONTEND_URL/health") != 200 ]]; then
		NOTES+=("Frontend: built but not answering GET /health: GET / skipped.")
		return 1
	fi
}

measure_frontend() {
	FRONTEND_OK=
	frontend_up || return 0
	FRONTEND_OK=1
	say "frontend"
	ROW_KEY=page measure Frontend "GET / (frontend)" hello "$FRONTEND_URL/" "$CONNECTIONS"
}

# start_mixed LABEL CEILING KEY URL: one wrk of the mixed-load run, in the background.
start_mixed() {
	local label=$1 ceiling=$2 key=$3 url=$4 out
	out=$RAW_DIR/$(slug "mixed-$label").txt
	wrk -t"$(wrk_threads "$MIXED_CONNECTIONS")" -c"$MIXED_CONNECTIONS" -d"${MIXED_SECONDS}s" \
		--latency -s "$LUA" "$url" >"$out" 2>&1 </dev/null &
	MIXED_PIDS+=("$!")
	MIXED_ROWS+=("$label"$'\t'"$ceiling"$'\t'"$key"$'\t'"$out")
}

# Four endpoints loaded at once, each with its own wrk and BENCH_MIXED_CONNECTIONS
# connections, for BENCH_MIXED_SECONDS (no separate warm-up: every endpoint ran alone
# just before).
measure_mixed() {
	local n=4 pid row label ceiling key out
	MIXED_ROWS=()
	[[ -n $FRONTEND_OK ]] || n=3
	say "mixed load: $n endpoints at once, $MIXED_CONNECTIONS connections each, ${MIXED_SECONDS}s"
	start_mixed "GET /api/products/1" redis item "$PRODUCT_URL/api/products/1"
	start_mixed "GET /api/products" redis list "$PRODUCT_URL/api/products"
	BENCH_VOTES=$VOTES_FILE start_mixed "vote + withdraw, $MIXED_CONNECTIONS distinct users" \
		pgupdate votes "$PRODUCT_URL/"
	((n == 3)) || start_mixed "GET / (frontend)" hello page "$FRONTEND_URL/"
	for pid in "${MIXED_PIDS[@]}"; do
		wait "$pid" || true
	done
	MIXED_PIDS=()
	for row in "${MIXED_ROWS[@]}"; do
		IFS=$'\t' read -r label ceiling key out <<<"$row"
		ROW_KEY=$key record Mixed "$label" "$ceiling" "$out"
	done
	audit "the mixed-load run"
}

# ---------------------------------------------------------------- the report

fmt_us() {
	awk -v u="$1" 'BEGIN {
		if (u !~ /^[0-9]+$/) { print "-"; exit }
		if (u < 1000) printf "%d µs\n", u
		else if (u < 1000000) printf "%.2f ms\n", u / 1000
		else printf "%.2f s\n", u / 1000000 }'
}

fmt_kb() {
	awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f MiB\n", k / 1024; else print "-" }'
}

git_commit() {
	local commit dirty=
	commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null) || {
		printf 'unknown\n'
		return 0
	}
	# The run's own dated reports in bench/results are not changes to the code measured.
	[[ -z $(GIT_OPTIONAL_LOCKS=0 git -C "$REPO" status --porcelain -- . ':(exclude)bench/results' 2>/dev/null) ]] ||
		dirty=' (with uncommitted changes)'
	printf '%s%s\n' "$commit" "$dirty"
}

# The awk functions and ceiling table every report table shares; reads ROWS.
# shellcheck disable=SC2016 # awk code
AWK_COMMON='
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
	function ratio(row_rps, ceiling) {
		if (row_rps !~ /^[0-9.]+$/ || !(c[ceiling] > 0)) return "-"
		return fmt_ratio(row_rps / c[ceiling])
	}
	function fmt_ratio(r) {
		return sprintf(r >= 0.1 ? "%.2f" : r >= 0.001 ? "%.2g" : "%.5f", r)
	}
	BEGIN {
		FS = "\t"
		n = split(ceil, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); c[p[1]] = p[2] }
		n = split(targets, kv, " ")
		for (i = 1; i <= n; i++) { split(kv[i], p, "="); target[p[1]] = p[2]; order[i] = p[1] }
		ntargets = n
		name["hello"] = "hello"; name["redis"] = "Redis GET"
		name["pg"] = "PostgreSQL query"; name["bcrypt"] = "bcrypt × cores"
		name["pgupdate"] = "pgbench UPDATE"
	}'

# report_awk PROGRAM [AWK_ARG...]: run awk PROGRAM (after AWK_COMMON) over ROWS.
report_awk() {
	local ceilings targets='' key
	ceilings="hello=${CEILING_RPS[hello]:-0} redis=${CEILING_RPS[redis]:-0} pg=${CEILING_RPS[pg]:-0}"
	ceilings+=" bcrypt=${CEILING_RPS[bcrypt]:-0} pgupdate=${CEILING_RPS[pgupdate]:-0}"
	for key in "${TARGET_KEYS[@]}"; do
		targets+="$key=${TARGET[$key]} "
	done
	awk -v ceil="$ceilings" -v targets="$targets" "${@:2}" "$AWK_COMMON $1" "$ROWS"
}

# table GROUP: the group's rows as a Markdown table.
table() {
	printf '| endpoint | req/s | p50 | p99 | ceiling | ratio | failed |\n'
	printf '|---|---:|---:|---:|---|---:|---:|\n'
	report_awk '
		$1 == g {
			ce = "-"
			if ($3 != "-") ce = sprintf("%s (%s/s)", name[$3], rps(c[$3]))
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", $2, rps($4), us($5), us($6), ce, ratio($4, $3), $7
		}' -v g="$1"
}

# The issue's table: each target row alone, next to its ceiling and its target.
targets_table() {
	printf '| endpoint | req/s | ceiling | ceiling req/s | ratio | target | ratio ÷ target |\n'
	printf '|---|---:|---|---:|---:|---:|---:|\n'
	report_awk '
		$1 != "Mixed" && $11 in target { row[$11] = $0 }
		END {
			for (i = 1; i <= ntargets; i++) {
				k = order[i]
				if (!(k in row)) { printf "| %s | not measured | | | | %s | |\n", k, target[k]; continue }
				split(row[k], f, "\t")
				r = ratio(f[4], f[3])
				printf "| %s | %s | %s | %s | %s | %s | %s |\n", f[2], rps(f[4]), name[f[3]], rps(c[f[3]]), r, target[k], (r == "-" ? "-" : fmt_ratio(r / target[k]))
			}
		}'
}

mixed_table() {
	printf '| endpoint | req/s | p50 | p99 | timeouts | non-2xx | socket errors | req/s alone | ratio to ceiling |\n'
	printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
	report_awk '
		$1 != "Mixed" && $11 != "-" { alone[$11] = $4 }
		$1 == "Mixed" { mixed[++m] = $0 }
		END {
			for (i = 1; i <= m; i++) {
				split(mixed[i], f, "\t")
				printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[2], rps(f[4]), us(f[5]), us(f[6]), f[10], f[8], f[9], rps(alone[f[11]]), ratio(f[4], f[3])
			}
		}'
}

starts_table() {
	local name med min max
	printf '| service | start to ready (median of %s) | fastest | slowest | RSS idle | RSS after load |\n' "$STARTS"
	printf '|---|---:|---:|---:|---:|---:|\n'
	for name in "${SERVICES[@]}"; do
		read -r med min max <<<"${READY[$name]:-- - -}"
		printf '| %s | %s ms | %s ms | %s ms | %s | %s |\n' "$name" "$med" "$min" "$max" \
			"$(fmt_kb "${RSS_IDLE[$name]:--}")" "$(fmt_kb "${RSS_LOAD[$name]:--}")"
	done
}

# chart_data: label, ratio, target (NaN when none) and series (0 alone, 1 mixed) of every
# endpoint row that has a ceiling, tab-separated, in report order.
chart_data() {
	report_awk '
		$1 != "Ceilings" && $3 != "-" && ratio($4, $3) != "-" {
			mixed = ($1 == "Mixed")
			t = (!mixed && ($11 in target)) ? target[$11] : "NaN"
			printf "%s%s\t%s\t%s\t%d\n", (mixed ? "mixed: " : ""), $2, ratio($4, $3), t, mixed
		}'
}

# chart SVG: a horizontal bar chart of the ratios with gnuplot; false without gnuplot.
chart() {
	local svg=$1 dat=$RAW_DIR/chart.tsv n xmax
	command -v gnuplot >/dev/null 2>&1 || return 1
	chart_data >"$dat"
	n=$(wc -l <"$dat")
	((n > 0)) || return 1
	xmax=$(awk -F'\t' '{ m = ($2 > m ? $2 : m); if ($3 != "NaN" && $3 > m) m = $3 }
		END { m *= 1.15; print (m < 1.1 ? 1.1 : m) }' "$dat")
	gnuplot >"$RAW_DIR/gnuplot.log" 2>&1 <<EOF || return 1
set terminal svg size 1000,$((130 + 30 * n)) dynamic noenhanced font 'sans,13' background rgb 'white'
set output '$svg'
set datafile separator '\t'
set style fill solid 0.85 noborder
set xrange [0:$xmax]
set yrange [$n - 0.5:-0.5]
set xtics nomirror
set ytics nomirror scale 0
set grid xtics lc rgb '#dddddd'
set border 3
set rmargin 10
set xlabel 'ratio to the ceiling (1 = as fast as the minimal server doing the same I/O)'
set key outside top center horizontal title "Craftista, $(date -u -d "$STARTED" '+%Y-%m-%d %H:%M UTC'): req/s ÷ ceiling req/s" samplen 2
plot '$dat' using (\$4 == 0 ? \$2 / 2 : NaN):0:(\$2 / 2):(0.35) with boxxyerror lc rgb '#4878b0' title 'alone', \
     '' using (\$4 == 1 ? \$2 / 2 : NaN):0:(\$2 / 2):(0.35) with boxxyerror lc rgb '#e39b2f' title 'in the mixed load', \
     '' using 3:(\$0 - 0.45):(0):(0.9) with vectors nohead lw 3 lc rgb '#c0392b' title 'target', \
     '' using 2:0:(sprintf(\$2 >= 0.1 ? ' %.2f' : \$2 >= 0.001 ? ' %.2g' : ' %.5f', \$2)):yticlabels(1) with labels left tc rgb '#333333' notitle
EOF
	[[ -s $svg ]]
}

write_report() {
	local cpu load_end group note chart_name=$1
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
		printf " logins \`-c%s --timeout 30s\`, the storm \`-c%s\`; votes \`-t%s -c%s\` (one user per connection)\n" \
			"$LOGIN_CONNECTIONS" "$CONNECTIONS" "$VOTE_USERS" "$VOTE_USERS"
		printf -- '- mixed load: %s connections per endpoint for %ss, all at once\n' \
			"$MIXED_CONNECTIONS" "$MIXED_SECONDS"
		printf -- '- stack: Release build, THREADS=%s (0 = one per core, ceilings alike),' "$THREADS"
		printf ' BCRYPT_COST=%s, LOG_LEVEL=%s; wrk, pgbench, servers, PostgreSQL and Redis share the cores\n\n' \
			"$BCRYPT_COST" "$LOG_LEVEL"
		printf 'ratio = the endpoint'"'"'s req/s ÷ its ceiling'"'"'s req/s, both from this run'
		printf ' (see bench/README.md). failed = non-2xx answers, socket errors and timeouts.\n'
		printf '\n## Targets\n\n'
		targets_table
		if [[ -n $chart_name ]]; then
			printf '\n![ratio of each endpoint to its ceiling](%s)\n' "$chart_name"
		fi
		for group in Ceilings Recommendation Product Votes Auth Frontend; do
			grep -q "^$group"$'\t' "$ROWS" || continue
			printf '\n## %s\n\n' "$group"
			table "$group"
			if [[ $group == Votes ]]; then
				printf '\nUsers spread over %s origami, each connection one user alternating POST and DELETE.\n' \
					"${VOTED_PRODUCTS:-?}"
				printf "Audit: \`SELECT sum(votes) FROM products\` against \`SELECT count(*) FROM votes\`,"
				printf ' and the products whose count disagrees with their rows.\n\n'
				printf '| after | sum(products.votes) | votes rows | products disagreeing | |\n'
				printf '|---|---:|---:|---:|---|\n'
				printf '%s\n' "${AUDITS[@]}"
			fi
		done
		if grep -q "^Mixed"$'\t' "$ROWS"; then
			printf '\n## Mixed load\n\n'
			printf 'All at once for %ss, %s connections each (wrk --timeout 2s).\n\n' \
				"$MIXED_SECONDS" "$MIXED_CONNECTIONS"
			mixed_table
		fi
		printf '\n## Start to ready and memory\n\n'
		printf 'From the exec of the binary (with the stack'"'"'s environment) to the first 200 on'
		printf " \`GET /health\`, polled every ~1 ms; RSS is VmRSS after the starts and after every run.\n\n"
		starts_table
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
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
		return 0
		;;
	*) die "usage: bench/run.sh (settings come from the environment; see --help)" ;;
	esac
	read_settings
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	local stamp name chart_name=
	stamp=$(date -u -d "$STARTED" +%Y-%m-%d-%H%M)
	read -r LOAD_START _ </proc/loadavg
	build
	rm -rf "$RAW_DIR"
	mkdir -p "$RAW_DIR"
	: >"$ROWS"
	start_stack
	measure_starts
	start_ceilings
	seed_ceiling_key
	register_user
	register_voters "$((VOTE_USERS > MIXED_CONNECTIONS ? VOTE_USERS : MIXED_CONNECTIONS))"
	measure_ceilings
	measure_recommendation
	measure_product
	measure_votes
	measure_auth
	measure_frontend
	measure_mixed
	for name in "${SERVICES[@]}"; do
		RSS_LOAD[$name]=$(rss_kb "$name")
	done
	if chart "$OUT_DIR/$stamp.svg"; then
		chart_name=$stamp.svg
	else
		rm -f "$OUT_DIR/$stamp.svg"
		NOTES+=("No chart: gnuplot is missing or failed (see ${RAW_DIR#"$REPO"/}/gnuplot.log).")
	fi
	write_report "$chart_name"
	cp "$REPORT" "$OUT_DIR/$stamp.md"
	say ""
	cat "$REPORT"
	say ""
	say "written: ${REPORT#"$REPO"/}, ${OUT_DIR#"$REPO"/}/$stamp.md${chart_name:+ and ${OUT_DIR#"$REPO"/}/$chart_name}"
}

main "$@"
