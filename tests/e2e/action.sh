#!/bin/sh
# tests/e2e/action.sh: restart actions in the real agent, with real child
# processes.
#
# One agent watches a leaker (process `leak`). On the first evaluation:
#   leak  last(leak.rss, 10s) > 30MB -> action `restart` (before step + the
#         restart-leaker.sh helper): a new leaker instance appears under the
#         pidfile, the run is an event whose detail holds the before step's
#         output and status, and verify reports the new pid;
#   meta  the same condition, a summary full of shell metacharacters ->
#         action `dump` (tests/helpers/envdump): the summary arrives verbatim
#         in SLOPEWATCH_SUMMARY, nothing in it runs, the child has fds 0-2 only;
#   hang  -> action `hang`, a child that sleeps past its 1 s timeout (with a
#         grandchild): the event says "timed out after 1 s", the grandchild
#         is gone.
# With `run --eval-every` (a test option), a rule that stays true (repeat
# 1s) checks the rails: cooldown 2s and limit 2 per 1h give two runs 2 s
# apart, then one escalation. Without it that part is
# skipped (the unit test test_action covers the rails with a fake clock).
# The node-heap-snapshot hook is tried against a real Node process when node
# is installed.
. "$top_srcdir/tests/e2e/lib.sh"

LEAKER="$top_builddir/tests/helpers/leaker"
ENVDUMP="$top_builddir/tests/helpers/envdump"
RESTART="$top_srcdir/tests/helpers/restart-leaker.sh"
[ -x "$LEAKER" ] || sw_skip "no $LEAKER (make check builds it)"
[ -x "$ENVDUMP" ] || sw_skip "no $ENVDUMP (make check builds it)"
[ -x "$SLOPEWATCH" ] || sw_skip "no $SLOPEWATCH"
command -v python3 >/dev/null || sw_skip "no python3"
[ -x /usr/bin/timeout ] && command -v setsid >/dev/null ||
	sw_skip "no /usr/bin/timeout or setsid (coreutils, util-linux)"
PY=$(python3 -c 'import sys; print(sys.executable)')

# The leakers the restart script starts are not children of this shell:
# stop whatever the pidfile names at exit too.
kill_pidfile() {
	if [ -s "$T/leak.pid" ]; then kill -KILL "$(cat "$T/leak.pid")" 2>/dev/null; fi
}
trap 'kill_pidfile; sw_cleanup' EXIT

# --- the contrib Node heap-snapshot hook, against a real Node process
if command -v node >/dev/null 2>&1; then
	mkdir -p "$T/node"
	(cd "$T/node" && exec node --heapsnapshot-signal=SIGUSR2 \
	    -e 'setInterval(() => {}, 1000)') >"$T/node.log" 2>&1 &
	nodepid=$!
	SW_PIDS="$SW_PIDS $nodepid"
	sw_wait_for 5 test -d "/proc/$nodepid" && sleep 0.5
	snap=$(env -i PATH=/usr/bin:/bin SLOPEWATCH_PID="$nodepid" SNAPSHOT_WAIT=15 \
	    "$top_srcdir/contrib/hooks/node-heap-snapshot" 2>"$T/snap.err")
	case $snap in
	"$T/node/Heap."*".$nodepid."*.heapsnapshot)
		sw_check "node-heap-snapshot prints the snapshot it waited for" \
		    test -s "$snap" ;;
	*)	sw_fail "node-heap-snapshot: got '$snap' ($(cat "$T/snap.err"))" ;;
	esac
	kill -TERM "$nodepid" 2>/dev/null
else
	sw_log "no node: the heap-snapshot hook is not tried"
fi
env -i PATH=/usr/bin:/bin "$top_srcdir/contrib/hooks/node-heap-snapshot" \
    >/dev/null 2>"$T/snap2.err"
sw_eq "node-heap-snapshot without a pid: exit 2" 2 "$?"

# --- the agent
if ! grep -q 'sw_actions_' "$top_srcdir/agent/cmd-run.c" 2>/dev/null; then
	sw_log "the agent does not run actions yet (agent/cmd-run.c)"
	if [ "$SW_CHECKS" -gt 0 ] && [ "$SW_FAILS" -eq 0 ]; then
		sw_finish
	fi
	sw_skip "actions are not wired into slopewatch run yet"
fi

EVAL_OPT=""
if "$SLOPEWATCH" run --help 2>&1 | grep -q -- '--eval-every'; then
	EVAL_OPT="--eval-every 1s"
fi

# Shell metacharacters, quotes and a newline (\n in a double-quoted
# config string): all data, never code.
META_CONF="; rm -rf / \$(touch $T/pwned) \`touch $T/pwned\` 'single' \\\"double\\\" \\\\ x\\nnew line \$HOME *"
META_WANT=$(printf '%s\n%s' "; rm -rf / \$(touch $T/pwned) \`touch $T/pwned\` 'single' \"double\" \\ x" \
    "new line \$HOME *")

sw_conf "$T/sw.conf" <<EOF
data $T/sw.db
process leak { pidfile $T/leak.pid; every 500ms }
action restart {
	before /bin/sh -c 'echo "evidence: pid \$SLOPEWATCH_PID value \$SLOPEWATCH_VALUE phase \$SLOPEWATCH_PHASE"'
	run $RESTART
	env LEAKER=$LEAKER
	env PIDFILE=$T/leak.pid
	env LOG=$T/leaker2.log
	timeout 15s; cooldown 1h; limit 1 per 1h; verify 2s
}
action dump { run $ENVDUMP $T/dump.out; cooldown 0 }
action hang {
	run /bin/sh -c 'sleep 30 & echo \$! > $T/grandchild.pid; echo hanging; sleep 30'
	timeout 1s; cooldown 0
}
rule leak { when last(leak.rss, 10s) > 30MB; action restart; summary "leaking" }
rule meta { when last(leak.rss, 10s) > 30MB; action dump; summary "$META_CONF" }
rule hang { when last(leak.rss, 10s) > 30MB; action hang }
EOF
if [ -n "$EVAL_OPT" ]; then
	cat >>"$T/sw.conf" <<EOF
action rails { run /bin/true; cooldown 2s; limit 2 per 1h }
rule stays { when last(leak.rss, 10s) > 100KB; repeat 1s; action rails }
EOF
fi
if "$SLOPEWATCH" check -q -c "$T/sw.conf" >"$T/check.out" 2>&1; then
	sw_ok "the config checks"
else
	sw_fail "the config checks: $(cat "$T/check.out")"
	sw_finish
fi

# A leaker already past the threshold: 40 MB held, growing slowly.
sw_bg "$T/leaker1.log" "$LEAKER" --rate 1000000 --hold 40000000 --pidfile "$T/leak.pid"
sw_wait_for 5 test -s "$T/leak.pid" || { sw_fail "leaker wrote its pidfile"; sw_finish; }
pid1=$(cat "$T/leak.pid")

# shellcheck disable=SC2086
sw_bg "$T/agent.log" "$SLOPEWATCH" run -v -c "$T/sw.conf" $EVAL_OPT
agent=$SW_LAST_PID

new_instance() {
	p=$(cat "$T/leak.pid" 2>/dev/null) && [ -n "$p" ] && [ "$p" != "$pid1" ]
}
if sw_wait_for 25 new_instance; then
	pid2=$(cat "$T/leak.pid")
	sw_ok "the action restarted the leaker (pid $pid1 -> $pid2)"
else
	sw_fail "no new leaker instance"
	tail -30 "$T/agent.log"
	sw_finish "$T/agent.log"
fi
sw_check "the old instance is gone" sh -c "! kill -0 $pid1 2>/dev/null"

# The events of target leak, as `show --events --json` gives them.
events() {
	"$SLOPEWATCH" show leak --events --since 1h --json -c "$T/sw.conf" >"$T/ev.json" 2>"$T/ev.err"
}
has_event() {	# has_event PYTHON-CONDITION (e: one event's detail)
	events && "$PY" -c '
import json, sys
ev = [e["detail"] for e in json.load(open(sys.argv[1])) if e["kind"] == "action"]
sys.exit(0 if any(eval(sys.argv[2]) for e in ev) else 1)
' "$T/ev.json" "$1"
}

sw_check "the run is an event with its before step's output and status" \
    sw_wait_for 10 has_event "e['phase'] == 'run' and e['action'] == 'restart' \
and e['result'] == 'exited 0' and e['before']['result'] == 'exited 0' \
and e['before']['output'].startswith('evidence: pid $pid1 value ') \
and e['before']['output'].endswith(' phase before\\\\n') \
and 'new pid $pid2' in e['output'] and e['verify'] == 'pending'"
sw_check "verify saw the new instance" \
    sw_wait_for 10 has_event "e['phase'] == 'verify' and e['action'] == 'restart' \
and e['new_pid'] == $pid2 and e['old_pid'] == $pid1 \
and 'restarted leak (pid $pid1 \u2192 $pid2)' in e['text']"

# metacharacters: verbatim in the environment, nothing ran
sw_wait_for 10 test -s "$T/dump.out" || sw_fail "the dump action ran"
sw_check "the summary arrived verbatim in SLOPEWATCH_SUMMARY" "$PY" -c '
import sys
data = open(sys.argv[1], "rb").read()
env, fds, i = {}, [], 0
while i < len(data):
    sp = data.index(b" ", i)
    kind = data[i:sp].decode()
    if kind in ("env", "argv"):
        sp2 = data.index(b" ", sp + 1)
        n = int(data[sp + 1:sp2])
        val = data[sp2 + 1:sp2 + 1 + n]
        i = sp2 + 1 + n + 1
        if kind == "env":
            k, v = val.split(b"=", 1)
            env[k.decode()] = v.decode()
    else:
        nl = data.index(b"\n", sp)
        if kind == "fd":
            fds.append(int(data[sp + 1:nl].split()[0]))
        i = nl + 1
want = sys.argv[2]
assert env.get("SLOPEWATCH_SUMMARY") == want, (env.get("SLOPEWATCH_SUMMARY"), want)
assert env.get("SLOPEWATCH_RULE") == "meta", env
assert env.get("PATH") == "/usr/bin:/bin", env
assert sorted(fds) == [0, 1, 2], fds
assert all(k == "PATH" or k.startswith("SLOPEWATCH_") for k in env), env
' "$T/dump.out" "$META_WANT"
sw_check "nothing in the alert data ran" test ! -e "$T/pwned"

# the hanging action: killed at its timeout, with its grandchild
sw_check "the hanging action timed out and was recorded" \
    sw_wait_for 10 has_event "e['phase'] == 'run' and e['action'] == 'hang' \
and e['result'] == 'timed out after 1 s (killed by signal 15)' \
and e['timed_out'] and e['output'] == 'hanging\\\\n'"
gone() { p=$(cat "$T/grandchild.pid") && ! kill -0 "$p" 2>/dev/null; }
sw_check "the hanging action's grandchild is gone" sw_wait_for 5 gone

# the rails under a rule that stays true, reminded every second
if [ -n "$EVAL_OPT" ]; then
	sw_check "budget spent: an escalation" \
	    sw_wait_for 15 has_event "e['phase'] == 'escalate' and e['action'] == 'rails'"
	sleep 3		# three more reminders: no run, no second escalation
	events
	sw_eq "cooldown 2s, limit 2 per 1h: two runs 2 s apart, one escalation" \
	    "2 1 True" "$("$PY" -c '
import json, sys
ev = [e["detail"] for e in json.load(open(sys.argv[1])) if e["kind"] == "action"
      and e["detail"]["action"] == "rails"]
runs = [e["started_ms"] for e in ev if e["phase"] == "run"]
print(len(runs), sum(e["phase"] == "escalate" for e in ev),
      len(runs) == 2 and runs[1] - runs[0] >= 2000)
' "$T/ev.json")"
else
	sw_log "no run --eval-every: the rails under a rule that stays true are left to test_action"
fi

sw_stop "$agent"
sw_eq "the agent stops cleanly" 0 "$SW_STOP_STATUS"
sw_finish "$T/agent.log"
