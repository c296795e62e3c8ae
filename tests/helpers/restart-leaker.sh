#!/bin/sh
# tests/helpers/restart-leaker.sh: the `run` program of the restart action
# in tests/e2e/action.sh. It plays a process manager: stops the instance the
# alert named ($SLOPEWATCH_PID, else the pidfile's) and starts a new leaker
# under the same pidfile. Everything comes from the environment (the action's
# `env` lines and slopewatch's SLOPEWATCH_*); nothing is ever evaluated.
#   LEAKER   the leaker program      PIDFILE  its pidfile
#   LOG      the new leaker's log    RATE     its leak rate (default 0)
set -u
: "${LEAKER:?}" "${PIDFILE:?}"
old=${SLOPEWATCH_PID:-}
if [ -z "$old" ] && [ -r "$PIDFILE" ]; then old=$(cat "$PIDFILE"); fi
echo "restart-leaker: rule ${SLOPEWATCH_RULE:-?} target ${SLOPEWATCH_TARGET:-?} old pid ${old:-none}"
if [ -n "$old" ]; then
	kill -TERM "$old" 2>/dev/null
	i=0
	while kill -0 "$old" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$old" 2>/dev/null
fi
rm -f "$PIDFILE"
# the new instance leaves the action's process group and its output pipe;
# it ends by itself after a minute in case the test's cleanup misses it
setsid /usr/bin/timeout 60 "$LEAKER" --rate "${RATE:-0}" --pidfile "$PIDFILE" \
    >"${LOG:-/dev/null}" 2>&1 </dev/null &
i=0
while [ ! -s "$PIDFILE" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$PIDFILE" ] || { echo "restart-leaker: no new pidfile" >&2; exit 1; }
echo "restart-leaker: new pid $(cat "$PIDFILE")"
