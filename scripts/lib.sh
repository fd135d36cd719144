# Shared shell helpers for the scripts in this folder (sourced, never run).
# Callers set `set -euo pipefail` themselves; nothing here changes shell options.

CRAFT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Messages go to stderr so that stdout stays usable (stack.sh env prints there).
say() { printf '%s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# abs_path PATH: PATH made absolute against the repository root (not the caller's cwd).
abs_path() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s\n' "$CRAFT_REPO/$1" ;;
	esac
}

# is_port NUMBER: true for a TCP port number 1..65535.
is_port() {
	[[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

# port_busy PORT: true when something listens on TCP PORT (any address).
port_busy() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
		return
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# proc_state PID: the one-letter state of PID (R, S, D, Z, ...), empty when gone.
proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	printf '%s\n' "${stat%% *}"
}

# pid_alive PID: true when PID exists and is neither a zombie nor dead.
pid_alive() {
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	local state
	state=$(proc_state "$1")
	[[ -n $state && $state != Z && $state != X ]]
}

# pid_cmd_has PID WORD: true when PID's command line contains WORD.
pid_cmd_has() {
	local cmd
	cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]]
}

# read_pid FILE: the pid on FILE's first line, empty when missing or malformed.
read_pid() {
	local pid=''
	if [[ -r $1 ]]; then
		read -r pid <"$1" 2>/dev/null || true
	fi
	[[ $pid =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
	return 0
}

# wait_dead PID SECONDS: wait until PID is gone or a zombie; false on timeout.
wait_dead() {
	local pid=$1 i
	for ((i = 0; i < $2 * 10; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	! pid_alive "$pid"
}

# stop_pid PID SIGNAL SECONDS LABEL: send SIGNAL, wait up to SECONDS, then SIGKILL and
# wait up to 5 s more. False when the process survived SIGKILL.
stop_pid() {
	local pid=$1 sig=$2 secs=$3 label=$4
	pid_alive "$pid" || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	wait_dead "$pid" "$secs" && return 0
	warn "$label (pid $pid) still running after ${secs}s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	wait_dead "$pid" 5 && return 0
	warn "$label (pid $pid) survived SIGKILL"
	return 1
}

# rand_hex BYTES: BYTES random bytes as lowercase hex.
rand_hex() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# Section headers and timings (printed under CI=true, recorded always).
CRAFT_SECTIONS=()
CRAFT_SECTION_NAME=
CRAFT_SECTION_START=0

section_end() {
	[[ -n $CRAFT_SECTION_NAME ]] || return 0
	local took=$((SECONDS - CRAFT_SECTION_START))
	CRAFT_SECTIONS+=("$(printf '%-10s %4ss' "$CRAFT_SECTION_NAME" "$took")")
	if [[ ${CI:-} == true ]]; then
		say "---- end $CRAFT_SECTION_NAME (${took}s)"
	fi
	CRAFT_SECTION_NAME=
}

section() {
	section_end
	CRAFT_SECTION_NAME=$1
	CRAFT_SECTION_START=$SECONDS
	if [[ ${CI:-} == true ]]; then
		say ""
		say "==== $1 ($(date -u +%H:%M:%S))"
	fi
}

section_report() {
	section_end
	[[ ${CI:-} == true && ${#CRAFT_SECTIONS[@]} -gt 0 ]] || return 0
	say ""
	say "==== timings"
	local line
	for line in "${CRAFT_SECTIONS[@]}"; do
		say "  $line"
	done
}

# pick_free_ports NAME...: set and export each NAME to a distinct free port below the
# kernel's ephemeral range (so outgoing connections cannot take it between this check
# and the server's start).
pick_free_ports() {
	local lo=20000 hi eph name p try used=" "
	read -r eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph=32768
	hi=$((eph > lo + 1000 ? eph - 1 : 30999))
	for name in "$@"; do
		for ((try = 0; ; try++)); do
			((try < 500)) || die "no free port found for $name"
			p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
			[[ $used == *" $p "* ]] && continue
			port_busy "$p" || break
		done
		used+="$p "
		printf -v "$name" '%s' "$p"
		export "${name?}"
	done
}
