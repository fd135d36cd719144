#!/usr/bin/env bash
# The development stack: a PostgreSQL and a Redis of its own, the migrations, and every
# service that is built, all running from one state folder (VAR_DIR) with no service
# manager. See `scripts/stack.sh help`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<'EOF'
usage: scripts/stack.sh COMMAND [ARG...]

  up                start PostgreSQL, Redis, the migrations, then every built service
  down              stop the services, Redis and PostgreSQL
  status            what runs (exit 0 when everything built is running, else 3)
  env               print the stack's environment as shell `export` lines
  logs [NAME...]    follow the logs (all, or postgres, redis, auth, ...)
  pg-start          start PostgreSQL (initialises it and its database when new)
  pg-stop           stop PostgreSQL (fast shutdown, then SIGKILL when it hangs)
  pg-kill           SIGKILL the PostgreSQL postmaster (crash tests)
  migrate           apply db/migrations with craft-migrate
  redis-start       start Redis
  redis-stop        stop Redis
  svc-start NAME    start one service and wait for its /health
  svc-stop NAME     stop one service (SIGTERM, then SIGKILL when it hangs)
  svc-kill NAME     SIGKILL one service (crash tests)

Settings (environment): VAR_DIR (default var/dev), BUILD_DIR (default build),
POSTGRES_PORT 5432, REDIS_PORT 6379, AUTH_PORT 8082, RECOMMENDATION_PORT 8080,
PRODUCT_PORT 8000, FRONTEND_PORT 3000, HEALTH_TIMEOUT 30, STOP_TIMEOUT 10,
CRAFT_PG_OPTS (extra postgres options). Every other variable passes through to the
services.
EOF
}

SERVICES=(auth recommendation product frontend) # start order
PORT_VARS=(POSTGRES_PORT REDIS_PORT AUTH_PORT RECOMMENDATION_PORT PRODUCT_PORT FRONTEND_PORT)
declare -A PORT_DEFAULT=(
	[POSTGRES_PORT]=5432 [REDIS_PORT]=6379 [AUTH_PORT]=8082
	[RECOMMENDATION_PORT]=8080 [PRODUCT_PORT]=8000 [FRONTEND_PORT]=3000
)

VAR_DIR=$(abs_path "${VAR_DIR:-${CRAFT_VAR_DIR:-var/dev}}")
BUILD_DIR=$(abs_path "${BUILD_DIR:-build}")
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-30}
STOP_TIMEOUT=${STOP_TIMEOUT:-10}
STACK_ENV=$VAR_DIR/stack.env
RUN_DIR=$VAR_DIR/run
LOG_DIR=$VAR_DIR/log

# ---------------------------------------------------------------- configuration

# Ports: the caller's environment first, then what this VAR_DIR last ran with (so that
# `svc-start` after `up` finds the same ports), then the defaults.
load_ports() {
	declare -A recorded=()
	local name value
	if [[ -f $STACK_ENV ]]; then
		while IFS='=' read -r name value; do
			[[ -n ${PORT_DEFAULT[$name]:-} ]] && is_port "$value" && recorded[$name]=$value
		done <"$STACK_ENV"
	fi
	for name in "${PORT_VARS[@]}"; do
		if [[ -z ${!name:-} ]]; then
			printf -v "$name" '%s' "${recorded[$name]:-${PORT_DEFAULT[$name]}}"
		fi
		is_port "${!name}" || die "$name=${!name} is not a TCP port"
		export "${name?}"
	done
}

record_ports() {
	mkdir -p "$VAR_DIR"
	local name
	for name in "${PORT_VARS[@]}"; do
		printf '%s=%s\n' "$name" "${!name}"
	done >"$STACK_ENV.tmp"
	mv -f "$STACK_ENV.tmp" "$STACK_ENV"
}

urlenc() {
	local LC_ALL=C s=$1 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s\n' "$out"
}

# Everything the services read. Values the stack owns (where PostgreSQL and Redis are)
# are always set; the URLs between services are computed unless the caller set them.
setup_env() {
	load_ports
	local base=http://127.0.0.1
	# Services run as production unless told otherwise; this stack is for
	# development (its default secrets and generated keys are only accepted so).
	export DEPLOYMENT_ENVIRONMENT=${DEPLOYMENT_ENVIRONMENT:-development}
	export HOST=${HOST:-127.0.0.1}
	export POSTGRES_HOST=127.0.0.1
	export POSTGRES_USER=${POSTGRES_USER:-postgres}
	export POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-postgres}
	export POSTGRES_DB=${POSTGRES_DB:-craftista}
	DATABASE_URL="postgresql://$(urlenc "$POSTGRES_USER"):$(urlenc "$POSTGRES_PASSWORD")"
	DATABASE_URL+="@127.0.0.1:$POSTGRES_PORT/$(urlenc "$POSTGRES_DB")"
	export DATABASE_URL
	export REDIS_HOST=127.0.0.1
	export AUTH_SERVICE_URL=${AUTH_SERVICE_URL:-$base:$AUTH_PORT}
	export PRODUCTS_API_BASE_URI=${PRODUCTS_API_BASE_URI:-$base:$PRODUCT_PORT}
	export RECOMMENDATION_BASE_URI=${RECOMMENDATION_BASE_URI:-$base:$RECOMMENDATION_PORT}
	export VOTING_BASE_URI=${VOTING_BASE_URI:-$base:$PRODUCT_PORT}
	export BASE_URL=${BASE_URL:-$AUTH_SERVICE_URL}
	# Set to an empty value to turn the iss / aud checks off.
	export JWT_ISSUER=${JWT_ISSUER-$BASE_URL}
	export JWT_AUDIENCE=${JWT_AUDIENCE-craftista}
	export RSA_PRIVATE_KEY_PATH=${RSA_PRIVATE_KEY_PATH:-$VAR_DIR/keys/private.pem}
	export RSA_PUBLIC_KEY_PATH=${RSA_PUBLIC_KEY_PATH:-$VAR_DIR/keys/public.pem}
	export VAR_DIR BUILD_DIR
}

print_env() {
	local name
	for name in VAR_DIR BUILD_DIR "${PORT_VARS[@]}" DEPLOYMENT_ENVIRONMENT HOST POSTGRES_HOST POSTGRES_USER \
		POSTGRES_PASSWORD POSTGRES_DB DATABASE_URL REDIS_HOST AUTH_SERVICE_URL \
		PRODUCTS_API_BASE_URI RECOMMENDATION_BASE_URI VOTING_BASE_URI BASE_URL JWT_ISSUER \
		JWT_AUDIENCE RSA_PRIVATE_KEY_PATH RSA_PUBLIC_KEY_PATH; do
		printf 'export %s=%q\n' "$name" "${!name}"
	done
	local svc var
	for svc in "${SERVICES[@]}"; do
		var=$(svc_port_var "$svc")
		printf 'export %s_URL=%q\n' "${svc^^}" "http://127.0.0.1:${!var}"
	done
}

# busy_message PORT VARIABLE: the complaint about a busy PORT, naming the variable that moves it.
busy_message() {
	printf 'port %s is busy (set %s to use another)' "$1" "$2"
}

check_distinct_ports() {
	declare -A seen=()
	local name
	for name in "${PORT_VARS[@]}"; do
		if [[ -n ${seen[${!name}]:-} ]]; then
			die "${seen[${!name}]} and $name are both ${!name}: give each its own port"
		fi
		seen[${!name}]=$name
	done
}

# ---------------------------------------------------------------- PostgreSQL

pg_bin_dir() {
	if [[ -n ${PG_BIN:-} ]]; then
		printf '%s\n' "$PG_BIN"
	elif [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
		printf '%s\n' /usr/lib/postgresql/15/bin
	else
		local d
		d=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1 || true)
		[[ -n $d ]] || die "PostgreSQL server binaries not found (run scripts/deps.sh)"
		printf '%s\n' "$d"
	fi
}

PGDATA=$VAR_DIR/pg/data
PG_LOG=$LOG_DIR/postgres.log

# A Unix socket path has at most 107 bytes: long VAR_DIRs get a socket folder in /tmp.
pg_sock_dir() {
	local dir=$VAR_DIR/pg/sock
	if ((${#dir} > 80)); then
		dir=/tmp/craft-pg-$(printf '%s' "$VAR_DIR" | sha256sum | cut -c1-12)
	fi
	printf '%s\n' "$dir"
}

is_root() {
	[[ $(id -u) == 0 ]]
}

# as_pg CMD...: run CMD as the postgres user when root (initdb and postgres refuse root).
as_pg() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# The postmaster's pid when it runs from this VAR_DIR (not a zombie), else nothing.
pg_pid() {
	local pid
	pid=$(read_pid "$PGDATA/postmaster.pid")
	[[ -n $pid ]] && pid_alive "$pid" && pid_cmd_has "$pid" postgres && printf '%s\n' "$pid"
	return 0
}

pg_running_port() {
	sed -n 4p "$PGDATA/postmaster.pid" 2>/dev/null || true
}

# Live processes of this cluster: every PostgreSQL process has the data folder as cwd.
pg_cluster_pids() {
	[[ -d $PGDATA ]] || return 0
	local real p
	real=$(realpath "$PGDATA")
	while read -r p; do
		p=${p#/proc/}
		p=${p%/cwd}
		pid_alive "$p" && printf '%s\n' "$p"
	done < <(find /proc/[0-9]*/cwd -maxdepth 0 -lname "$real" 2>/dev/null)
	return 0
}

# After a crash: wait for the cluster's leftover processes, then drop the stale lock files
# (a postmaster killed with SIGKILL may linger as a zombie, and PostgreSQL takes a lock
# file whose pid still answers kill -0 for a live postmaster).
pg_clear_stale() {
	local i pids
	for ((i = 0; i < 100; i++)); do
		pids=$(pg_cluster_pids)
		[[ -z $pids ]] && break
		# shellcheck disable=SC2086 # one pid per word
		((i == 50)) && kill -KILL $pids 2>/dev/null
		sleep 0.1
	done
	[[ -z $(pg_cluster_pids) ]] || die "leftover PostgreSQL processes of $PGDATA: $(pg_cluster_pids | tr '\n' ' ')"
	rm -f "$PGDATA/postmaster.pid" "$(pg_sock_dir)"/.s.PGSQL.*
}

# chmod o+x on DIR and its parents where missing, so that the postgres user reaches DIR.
make_traversable() {
	local d=$1
	while [[ $d != / && -n $d ]]; do
		if [[ -d $d && $(stat -c %A "$d") != ?????????[xt] ]]; then
			chmod o+x "$d"
			say "note: chmod o+x $d (PostgreSQL runs as user postgres and must reach $VAR_DIR)"
		fi
		d=$(dirname "$d")
	done
}

pg_prepare_dirs() {
	local sock
	sock=$(pg_sock_dir)
	mkdir -p "$VAR_DIR/pg" "$LOG_DIR" "$sock"
	[[ -e $PG_LOG ]] || : >"$PG_LOG"
	if is_root; then
		make_traversable "$VAR_DIR/pg"
		make_traversable "$LOG_DIR"
		make_traversable "$sock"
		chown postgres:postgres "$VAR_DIR/pg" "$sock" "$PG_LOG"
		[[ ! -d $PGDATA ]] || chown postgres:postgres "$PGDATA"
	fi
}

pg_initdb() {
	[[ -s $PGDATA/PG_VERSION ]] && return 0
	rm -rf "$PGDATA"
	say "initialising PostgreSQL in $PGDATA"
	# C.UTF-8 (always installed on Debian) sorts like C but folds case like the UTF-8
	# locales of real deployments: lower() maps U+212A KELVIN SIGN to 'k', U+0130 to 'i'.
	if ! as_pg "$(pg_bin_dir)/initdb" -D "$PGDATA" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 -N >"$LOG_DIR/initdb.log" 2>&1; then
		tail -n 20 "$LOG_DIR/initdb.log" >&2
		die "initdb failed (log: $LOG_DIR/initdb.log)"
	fi
}

# The role and database the services use, with the password set (idempotent).
pg_ensure_db() {
	local out
	if ! out=$("$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_sock_dir)" \
		-p "$POSTGRES_PORT" -U postgres -d postgres -v u="$POSTGRES_USER" \
		-v p="$POSTGRES_PASSWORD" -v db="$POSTGRES_DB" 2>&1 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN PASSWORD :'p';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
	); then
		printf '%s\n' "$out" >&2
		die "could not create the role and database"
	fi
}

pg_start() {
	local pid
	pid=$(pg_pid)
	if [[ -n $pid ]]; then
		say "PostgreSQL already running (pid $pid, port $(pg_running_port))"
		[[ $(pg_running_port) == "$POSTGRES_PORT" ]] ||
			warn "it listens on $(pg_running_port), not POSTGRES_PORT=$POSTGRES_PORT"
		return 0
	fi
	port_busy "$POSTGRES_PORT" && die "$(busy_message "$POSTGRES_PORT" POSTGRES_PORT)"
	pg_prepare_dirs
	pg_initdb
	pg_clear_stale
	local sock
	sock=$(pg_sock_dir)
	if ! as_pg "$(pg_bin_dir)/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t 60 -s \
		-o "-p $POSTGRES_PORT -h 127.0.0.1 -k '$sock' ${CRAFT_PG_OPTS:-}" start; then
		tail -n 20 "$PG_LOG" >&2
		die "PostgreSQL did not start (log: $PG_LOG)"
	fi
	record_ports
	pg_ensure_db
	say "PostgreSQL running (pid $(pg_pid), port $POSTGRES_PORT)"
}

pg_stop() {
	local pid
	pid=$(pg_pid)
	if [[ -z $pid ]]; then
		[[ -f $PGDATA/postmaster.pid ]] && pg_clear_stale
		say "PostgreSQL not running"
		return 0
	fi
	# SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to leave).
	kill -INT "$pid" 2>/dev/null || true
	if ! wait_dead "$pid" "$STOP_TIMEOUT"; then
		warn "PostgreSQL (pid $pid) still running after ${STOP_TIMEOUT}s; immediate shutdown"
		stop_pid "$pid" QUIT 5 PostgreSQL || return 1
	fi
	pg_clear_stale
	# A socket folder outside VAR_DIR (long paths) goes with the server.
	local sock
	sock=$(pg_sock_dir)
	[[ $sock == "$VAR_DIR"/* ]] || rmdir "$sock" 2>/dev/null || true
	say "PostgreSQL stopped"
}

pg_kill() {
	local pid
	pid=$(pg_pid)
	[[ -n $pid ]] || die "PostgreSQL is not running"
	kill -KILL "$pid"
	wait_dead "$pid" 5 || die "PostgreSQL (pid $pid) survived SIGKILL"
	say "PostgreSQL killed (pid $pid)"
}

pg_migrate() {
	local bin=$BUILD_DIR/tools/craft-migrate
	if [[ ! -x $bin ]]; then
		warn "craft-migrate is not built ($bin): migrations skipped"
		return 0
	fi
	[[ -n $(pg_pid) ]] || die "PostgreSQL is not running (scripts/stack.sh pg-start)"
	mkdir -p "$LOG_DIR"
	if ! (cd "$CRAFT_REPO" && exec timeout 120 "$bin") >>"$LOG_DIR/migrate.log" 2>&1; then
		tail -n 20 "$LOG_DIR/migrate.log" >&2
		die "migrations failed (log: $LOG_DIR/migrate.log)"
	fi
	say "migrations applied"
}

# ---------------------------------------------------------------- Redis

REDIS_PIDFILE=$RUN_DIR/redis.pid

redis_pid() {
	local pid
	pid=$(read_pid "$REDIS_PIDFILE")
	[[ -n $pid ]] && pid_alive "$pid" && pid_cmd_has "$pid" redis-server && printf '%s\n' "$pid"
	return 0
}

redis_ping() {
	if command -v redis-cli >/dev/null 2>&1; then
		[[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
		return
	fi
	local line=
	{
		exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" && printf 'PING\r\n' >&3 &&
			read -r -t 1 line <&3
		exec 3>&-
	} 2>/dev/null || return 1
	[[ $line == +PONG* ]]
}

redis_start() {
	local pid i
	pid=$(redis_pid)
	if [[ -n $pid ]]; then
		say "Redis already running (pid $pid)"
		return 0
	fi
	port_busy "$REDIS_PORT" && die "$(busy_message "$REDIS_PORT" REDIS_PORT)"
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$VAR_DIR/redis"
	rm -f "$REDIS_PIDFILE"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$LOG_DIR/redis.log" \
		--dir "$VAR_DIR/redis" </dev/null || die "redis-server failed (log: $LOG_DIR/redis.log)"
	for ((i = 0; i < 100; i++)); do
		[[ -n $(redis_pid) ]] && redis_ping && break
		sleep 0.1
	done
	if [[ -z $(redis_pid) ]] || ! redis_ping; then
		tail -n 20 "$LOG_DIR/redis.log" >&2
		die "Redis did not start (log: $LOG_DIR/redis.log)"
	fi
	record_ports
	say "Redis running (pid $(redis_pid), port $REDIS_PORT)"
}

redis_stop() {
	local pid
	pid=$(redis_pid)
	if [[ -z $pid ]]; then
		rm -f "$REDIS_PIDFILE"
		say "Redis not running"
		return 0
	fi
	stop_pid "$pid" TERM "$STOP_TIMEOUT" Redis || return 1
	rm -f "$REDIS_PIDFILE"
	say "Redis stopped"
}

# ---------------------------------------------------------------- services

svc_known() {
	local s
	for s in "${SERVICES[@]}"; do
		[[ $s == "$1" ]] && return 0
	done
	die "unknown service '$1' (one of: ${SERVICES[*]})"
}

svc_port_var() {
	printf '%s_PORT\n' "${1^^}"
}

svc_port() {
	local var
	var=$(svc_port_var "$1")
	printf '%s\n' "${!var}"
}

svc_bin() {
	printf '%s\n' "$BUILD_DIR/services/$1/craft-$1"
}

svc_pid() {
	local pid
	pid=$(read_pid "$RUN_DIR/$1.pid")
	[[ -n $pid ]] && pid_alive "$pid" && pid_cmd_has "$pid" "craft-$1" && printf '%s\n' "$pid"
	return 0
}

health_code() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/health" 2>/dev/null || true
}

# svc_launch NAME: start NAME's binary detached (own session, stdout+stderr to its log)
# and print its pid.
svc_launch() {
	local name=$1 pidfile=$RUN_DIR/$1.pid i pid=
	rm -f "$pidfile"
	# The shell writes its own pid, then becomes the service: the pid file is exact.
	(
		cd "$CRAFT_REPO"
		# shellcheck disable=SC2016 # $$ and $@ belong to the inner sh
		PORT=$(svc_port "$name") exec setsid sh -c 'echo $$ >"$0" && exec "$@"' \
			"$pidfile" "$(svc_bin "$name")"
	) >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
	for ((i = 0; i < 50; i++)); do
		pid=$(svc_pid "$name")
		[[ -n $pid ]] && break
		# Written, then gone: it exited at once.
		pid=$(read_pid "$pidfile")
		[[ -n $pid ]] && ! pid_alive "$pid" && break
		pid=
		sleep 0.1
	done
	printf '%s\n' "$pid"
}

# svc_start NAME [optional]: start NAME and wait for GET /health = 200. With `optional`,
# a service that is not built is skipped instead of being an error.
svc_start() {
	local name=$1 optional=${2:-} bin port pid code='' i log
	bin=$(svc_bin "$name")
	port=$(svc_port "$name")
	log=$LOG_DIR/$name.log
	if [[ ! -x $bin ]]; then
		[[ -n $optional ]] || die "$name is not built ($bin)"
		say "$name is not built yet: skipped"
		return 0
	fi
	pid=$(svc_pid "$name")
	if [[ -n $pid ]]; then
		say "$name already running (pid $pid)"
		return 0
	fi
	port_busy "$port" && die "$(busy_message "$port" "$(svc_port_var "$name")")"
	mkdir -p "$RUN_DIR" "$LOG_DIR" "$VAR_DIR/keys"
	chmod 700 "$VAR_DIR/keys"
	record_ports
	pid=$(svc_launch "$name")
	for ((i = 0; i < HEALTH_TIMEOUT * 5; i++)); do
		if [[ -z $pid ]] || ! pid_alive "$pid"; then
			say "$name exited during start-up; last lines of $log:"
			tail -n 30 "$log" >&2
			rm -f "$RUN_DIR/$name.pid"
			return 1
		fi
		code=$(health_code "$port")
		[[ $code == 200 ]] && break
		sleep 0.2
	done
	if [[ $code != 200 ]]; then
		say "$name did not answer GET /health with 200 within ${HEALTH_TIMEOUT}s (last: $code); last lines of $log:"
		tail -n 30 "$log" >&2
		stop_pid "$pid" TERM "$STOP_TIMEOUT" "$name" || true
		rm -f "$RUN_DIR/$name.pid"
		return 1
	fi
	say "$name running (pid $pid, port $port)"
}

svc_stop() {
	local name=$1 pid
	pid=$(svc_pid "$name")
	if [[ -z $pid ]]; then
		rm -f "$RUN_DIR/$name.pid"
		return 0
	fi
	stop_pid "$pid" TERM "$STOP_TIMEOUT" "$name" || return 1
	rm -f "$RUN_DIR/$name.pid"
	say "$name stopped"
}

svc_kill() {
	local name=$1 pid
	pid=$(svc_pid "$name")
	[[ -n $pid ]] || die "$name is not running"
	kill -KILL "$pid"
	wait_dead "$pid" 5 || die "$name (pid $pid) survived SIGKILL"
	rm -f "$RUN_DIR/$name.pid"
	say "$name killed (pid $pid)"
}

# ---------------------------------------------------------------- whole stack

# Before starting anything: every port that something of ours still has to take is free.
preflight() {
	local errors=() svc
	check_distinct_ports
	if [[ -z $(pg_pid) ]] && port_busy "$POSTGRES_PORT"; then
		errors+=("$(busy_message "$POSTGRES_PORT" POSTGRES_PORT)")
	fi
	if [[ -z $(redis_pid) ]] && port_busy "$REDIS_PORT"; then
		errors+=("$(busy_message "$REDIS_PORT" REDIS_PORT)")
	fi
	for svc in "${SERVICES[@]}"; do
		if [[ -x $(svc_bin "$svc") && -z $(svc_pid "$svc") ]] && port_busy "$(svc_port "$svc")"; then
			errors+=("$(busy_message "$(svc_port "$svc")" "$(svc_port_var "$svc")")")
		fi
	done
	((${#errors[@]} == 0)) && return 0
	printf 'error: %s\n' "${errors[@]}" >&2
	exit 1
}

stack_up() {
	preflight
	pg_start
	redis_start
	pg_migrate
	local svc
	for svc in "${SERVICES[@]}"; do
		svc_start "$svc" optional || die "$svc did not start (log: $LOG_DIR/$svc.log)"
	done
	print_urls
}

# The result of `up`, on stdout (progress messages go to stderr).
print_urls() {
	local svc shown=${VAR_DIR#"$CRAFT_REPO"/}
	printf '\nCraftista is up (state and logs in %s):\n' "$shown"
	for svc in auth recommendation product; do
		[[ -n $(svc_pid "$svc") ]] &&
			printf '  %-15s http://127.0.0.1:%s/\n' "$svc" "$(svc_port "$svc")"
	done
	printf '  %-15s postgresql://%s@127.0.0.1:%s/%s\n' PostgreSQL "$POSTGRES_USER" \
		"$POSTGRES_PORT" "$POSTGRES_DB"
	printf '  %-15s redis://127.0.0.1:%s\n' Redis "$REDIS_PORT"
	printf '  %-15s %s/\n' logs "$LOG_DIR"
	if [[ -n $(svc_pid frontend) ]]; then
		printf 'Open http://127.0.0.1:%s/\n' "$FRONTEND_PORT"
	else
		printf 'The frontend is not built yet: nothing to open in a browser.\n'
	fi
}

stack_down() {
	local rc=0 i
	for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
		svc_stop "${SERVICES[i]}" || rc=1
	done
	redis_stop || rc=1
	pg_stop || rc=1
	((rc == 0)) && rm -f "$STACK_ENV"
	return "$rc"
}

status_line() {
	say "$(printf '  %-15s %s' "$1" "$2")"
}

stack_status() {
	local rc=0 pid svc
	pid=$(pg_pid)
	if [[ -n $pid ]]; then
		status_line PostgreSQL "running  pid $pid  port $(pg_running_port)"
	else
		status_line PostgreSQL stopped
		rc=3
	fi
	pid=$(redis_pid)
	if [[ -n $pid ]]; then
		status_line Redis "running  pid $pid  port $REDIS_PORT"
	else
		status_line Redis stopped
		rc=3
	fi
	for svc in "${SERVICES[@]}"; do
		pid=$(svc_pid "$svc")
		if [[ -n $pid ]]; then
			status_line "$svc" "running  pid $pid  port $(svc_port "$svc")  health $(health_code "$(svc_port "$svc")")"
		elif [[ -x $(svc_bin "$svc") ]]; then
			status_line "$svc" stopped
			rc=3
		else
			status_line "$svc" "not built"
		fi
	done
	return "$rc"
}

stack_logs() {
	local files=() name
	if (($# == 0)); then
		shopt -s nullglob
		files=("$LOG_DIR"/*.log)
		shopt -u nullglob
	else
		for name in "$@"; do
			files+=("$LOG_DIR/$name.log")
		done
	fi
	((${#files[@]} > 0)) || die "no logs in $LOG_DIR yet"
	exec tail -n 50 -F "${files[@]}"
}

main() {
	local cmd=${1:-help}
	shift || true
	case $cmd in
	help | -h | --help)
		usage
		return 0
		;;
	esac
	setup_env
	case $cmd in
	up) stack_up ;;
	down) stack_down ;;
	status) stack_status ;;
	env) print_env ;;
	logs) stack_logs "$@" ;;
	pg-start) pg_start ;;
	pg-stop) pg_stop ;;
	pg-kill) pg_kill ;;
	migrate) pg_migrate ;;
	redis-start) redis_start ;;
	redis-stop) redis_stop ;;
	svc-start | svc-stop | svc-kill)
		(($# == 1)) || die "usage: $0 $cmd NAME"
		svc_known "$1"
		case $cmd in
		svc-start) svc_start "$1" ;;
		svc-stop) svc_stop "$1" ;;
		svc-kill) svc_kill "$1" ;;
		esac
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
