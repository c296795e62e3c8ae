#!/bin/sh
# tests/e2e/pm2.sh: a restart action through PM2. A leaking Node app
# (tests/helpers/leaky-app.js) runs under PM2 (PM2_HOME in the test's temp
# dir); the agent watches it by PM2's pidfile, the rule fires, the action
# runs contrib/hooks/pm2-restart (`pm2 restart leaky`), and PM2's new
# process shows up: a new pid in the pidfile and in `pm2 jlist`, and the run
# in the store's events.
#
# Needs node and pm2 in the build tree ($top_builddir/node_modules/.bin/pm2,
# installed by .ci/run with npm); installs nothing itself and skips without.
. "$top_srcdir/tests/e2e/lib.sh"

PM2BIN="$top_builddir/node_modules/.bin/pm2"
NODE=$(command -v node 2>/dev/null) || sw_skip "no node"
[ -x "$PM2BIN" ] || sw_skip "no pm2 at $PM2BIN (npm install --prefix \$top_builddir pm2)"
[ -x "$SLOPEWATCH" ] || sw_skip "no $SLOPEWATCH"
command -v python3 >/dev/null || sw_skip "no python3"
grep -q 'sw_actions_' "$top_srcdir/agent/cmd-run.c" 2>/dev/null ||
	sw_skip "actions are not wired into slopewatch run yet"
PY=$(python3 -c 'import sys; print(sys.executable)')

EVAL_OPT=""
if "$SLOPEWATCH" run --help 2>&1 | grep -q -- '--eval-every'; then
	EVAL_OPT="--eval-every 1s"
fi

export PM2_HOME="$T/pm2"
NODEDIR=$(dirname "$NODE")
pm2() { "$PM2BIN" "$@"; }
trap 'pm2 kill >/dev/null 2>&1; sw_cleanup' EXIT

pm2 start "$top_srcdir/tests/helpers/leaky-app.js" --name leaky \
    >"$T/pm2-start.log" 2>&1 || { sw_fail "pm2 start: $(tail -5 "$T/pm2-start.log")"; sw_finish; }
PIDFILE="$PM2_HOME/pids/leaky-0.pid"
sw_wait_for 10 test -s "$PIDFILE" || { sw_fail "PM2 wrote the app's pidfile"; sw_finish; }
pid1=$(cat "$PIDFILE")
sw_log "leaky app under PM2: pid $pid1"

sw_conf "$T/sw.conf" <<EOT
data $T/sw.db
process app { pidfile $PIDFILE; every 500ms }
action pm2-restart {
	run $top_srcdir/contrib/hooks/pm2-restart leaky
	env PM2=$PM2BIN
	env PM2_HOME=$PM2_HOME
	env PATH=$NODEDIR:/usr/bin:/bin
	timeout 30s; cooldown 1h; verify 3s
}
rule app-leak { when last(app.rss, 10s) > 120MB; action pm2-restart }
EOT
if "$SLOPEWATCH" check -q -c "$T/sw.conf" >"$T/check.out" 2>&1; then
	sw_ok "the config checks"
else
	sw_fail "the config checks: $(cat "$T/check.out")"
	sw_finish
fi

# shellcheck disable=SC2086
sw_bg "$T/agent.log" "$SLOPEWATCH" run -v -c "$T/sw.conf" $EVAL_OPT
agent=$SW_LAST_PID

new_pid() { p=$(cat "$PIDFILE" 2>/dev/null) && [ -n "$p" ] && [ "$p" != "$pid1" ]; }
if sw_wait_for 30 new_pid; then
	pid2=$(cat "$PIDFILE")
	sw_ok "PM2 restarted the app through the action (pid $pid1 -> $pid2)"
else
	sw_fail "no new pid in PM2's pidfile"
	tail -20 "$T/agent.log"
	sw_finish "$T/agent.log"
fi
pm2 jlist >"$T/jlist.json" 2>/dev/null
sw_check "pm2 jlist: the app is online with the new pid, restarted once" "$PY" -c '
import json, sys
apps = [a for a in json.load(open(sys.argv[1])) if a["name"] == "leaky"]
assert len(apps) == 1, apps
a = apps[0]
assert a["pid"] == int(sys.argv[2]), (a["pid"], sys.argv[2])
assert a["pm2_env"]["status"] == "online", a["pm2_env"]["status"]
assert a["pm2_env"]["restart_time"] == 1, a["pm2_env"]["restart_time"]
' "$T/jlist.json" "$pid2"

run_event() {
	"$SLOPEWATCH" show app --events --since 1h --json -c "$T/sw.conf" >"$T/ev.json" 2>/dev/null &&
	"$PY" -c '
import json, sys
ev = [e["detail"] for e in json.load(open(sys.argv[1])) if e["kind"] == "action"]
sys.exit(0 if any(e["phase"] == "run" and e["result"] == "exited 0" and
    "pm2-restart: restarting leaky" in e["output"] for e in ev) else 1)
' "$T/ev.json"
}
sw_check "the pm2 restart is an event with its output" sw_wait_for 10 run_event

sw_stop "$agent"
sw_eq "the agent stops cleanly" 0 "$SW_STOP_STATUS"
sw_finish "$T/agent.log"
