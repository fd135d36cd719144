#!/usr/bin/env bash
# What `make run` does: installs what is missing, builds, starts the development stack
# (var/dev unless VAR_DIR says otherwise), follows the services' logs, and stops the whole
# stack on Ctrl-C or SIGTERM. Settings: those of build.sh and stack.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STACK=$CRAFT_REPO/scripts/stack.sh
TAIL_PID=

stop_stack() {
	local rc=${1:-0}
	trap '' INT TERM
	trap - EXIT
	[[ -z $TAIL_PID ]] || kill "$TAIL_PID" 2>/dev/null || true
	say ""
	say "stopping the stack"
	"$STACK" down || rc=1
	exit "$rc"
}

"$CRAFT_REPO/scripts/deps.sh"
"$CRAFT_REPO/scripts/build.sh"

trap 'stop_stack 0' INT TERM
trap 'stop_stack 1' EXIT
"$STACK" up
say "(Ctrl-C stops everything; logs follow)"

VAR_DIR=$(abs_path "${VAR_DIR:-${CRAFT_VAR_DIR:-var/dev}}")
logs=()
for name in auth recommendation product frontend; do
	[[ -e "$VAR_DIR/log/$name.log" ]] && logs+=("$VAR_DIR/log/$name.log")
done
if ((${#logs[@]} > 0)); then
	tail -n 0 -F "${logs[@]}" &
else
	# Nothing to follow yet: just wait for a signal.
	sleep infinity &
fi
TAIL_PID=$!
wait "$TAIL_PID" || true
# tail only ends on its own when killed from outside: treat that as a stop request.
stop_stack 0
