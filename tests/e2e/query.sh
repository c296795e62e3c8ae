#!/bin/sh
# tests/e2e/query.sh: the rules engine in the real agent, and `slopewatch
# query` against what it stored.
#
# An agent watches a leaker (20 MB/s for 3 s) every 250 ms with a rule on
# its peak memory. Checks: the rule fires in the agent (one warning line,
# an "alert" event in the store with the notify and action names); query
# prints values with units, JSON with the unit, conditions as true/false;
# a trend over a window with too little data is "no verdict" (exit 1),
# never a number; a bad expression exits 2 naming the column; --at before
# the data is no verdict.
. "$top_srcdir/tests/e2e/lib.sh"

LEAKER="$top_builddir/tests/helpers/leaker"
[ -x "$LEAKER" ] || sw_skip "no $LEAKER (make check builds it)"
[ -x "$SLOPEWATCH" ] || sw_skip "no $SLOPEWATCH"
[ -r /proc/self/smaps_rollup ] || sw_skip "no /proc/PID/smaps_rollup"

sw_conf "$T/sw.conf" <<EOF
data $T/sw.db
process leak { pidfile $T/leak.pid; every 250ms; warmup 1s }
notify ops log { }
action fix { run /bin/true }
rule big { when max(leak.rss, 1m) > 40MB; notify ops; action fix }
rule never { when doubling(leak.rss, 6h) < 1d }
rule held { when max(leak.rss, 1h) > 40MB }
EOF

sw_bg "$T/leaker.log" "$LEAKER" --rate 20000000 --duration 3 \
    --pidfile "$T/leak.pid"
sw_wait_for 5 test -s "$T/leak.pid" || { sw_fail "leaker started"; sw_finish; }

sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$T/sw.conf"
agent=$SW_LAST_PID

# the rule is evaluated every 10 s; the leak is over 40 MB after ~2 s
fired() { grep -q 'rule big firing: ' "$T/agent.log"; }
if sw_wait_for 20 fired; then
	sw_ok "rule fires in the agent"
else
	sw_fail "rule fires in the agent"
	cat "$T/agent.log"
fi
grep 'rule big firing' "$T/agent.log" | grep -q 'max(leak.rss, 1m) = .*MB (threshold 40 MB)' &&
    sw_ok "the log line says value and threshold" ||
    sw_fail "the log line says value and threshold"
grep -q 'rule never' "$T/agent.log" && sw_fail "no trend verdict on 10 s of data" ||
    sw_ok "no trend verdict on 10 s of data"
# a reload rebuilds the engine over the store: the alert stays firing and
# is not announced again
kill -HUP "$agent"
reloaded() { [ "$(grep -c 'rules: engine ready' "$T/agent.log")" -ge 2 ]; }
sw_wait_for 10 reloaded && sw_ok "reload rebuilds the rules engine" ||
    sw_fail "reload rebuilds the rules engine"
sw_stop "$agent"
sw_eq "agent exits 0" 0 "$SW_STOP_STATUS"
sw_eq "fired once" 1 "$(grep -c 'warn: rule big firing' "$T/agent.log")"

"$SLOPEWATCH" show leak --events -c "$T/sw.conf" >"$T/events.txt" 2>&1
grep -q 'alert' "$T/events.txt" && grep -q '"notify":\["ops"\]' "$T/events.txt" &&
    grep -q '"action":"fix"' "$T/events.txt" &&
    sw_ok "alert event stored with notify and action" ||
    { sw_fail "alert event stored with notify and action"; cat "$T/events.txt"; }

# status shows the firing alert with its description (text and JSON)
"$SLOPEWATCH" status -c "$T/sw.conf" >"$T/status.txt" 2>&1
grep -Eq '^  big +firing +since ' "$T/status.txt" &&
    grep -q 'max(leak.rss, 1m) = .* MB' "$T/status.txt" &&
    sw_ok "status lists the firing alert" ||
    { sw_fail "status lists the firing alert"; cat "$T/status.txt"; }
"$SLOPEWATCH" status --json -c "$T/sw.conf" | python3 -c '
import json, sys
o = json.load(sys.stdin)
a = [x for x in o["alerts"] if x["rule"] == "big"]
assert len(a) == 1 and a[0]["state"] == "firing", o["alerts"]
assert a[0]["since"] > 0 and a[0]["severity"] == "warning", a
' && sw_ok "status --json alerts" || sw_fail "status --json alerts"

# a restarted agent neither forgets the firing alert nor announces it again
"$SLOPEWATCH" run -c "$T/sw.conf" --for 12s >"$T/agent2.log" 2>&1
sw_eq "second agent run exits 0" 0 "$?"
sw_eq "held fired once before the restart" 1 "$(grep -c 'warn: rule held firing' "$T/agent.log")"
sw_eq "no second firing after a restart" 0 "$(grep -c 'warn: rule held firing' "$T/agent2.log")"
"$SLOPEWATCH" status --json -c "$T/sw.conf" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert [x["state"] for x in o["alerts"] if x["rule"] == "held"] == ["firing"], o["alerts"]
' && sw_ok "still firing after a restart" || sw_fail "still firing after a restart"

Q() { "$SLOPEWATCH" query -c "$T/sw.conf" "$@"; }

out=$(Q 'max(leak.rss, 1h)' 2>&1); rc=$?
sw_eq "query max exits 0" 0 "$rc"
echo "$out" | head -1 | grep -Eq '^[0-9.]+ MB \(bytes\)$' &&
    sw_ok "value with its unit" || sw_fail "value with its unit: $out"

out=$(Q 'last(leak.rss, 1h)' --json 2>&1); rc=$?
sw_eq "query --json exits 0" 0 "$rc"
echo "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["ok"] is True and o["unit"] == "bytes", o
assert o["value"] > 60e6, o
' && sw_ok "json value > 60 MB, unit bytes" || sw_fail "json value: $out"

out=$(Q 'max(leak.rss, 1h) > 40MB' 2>&1); rc=$?
sw_eq "condition exits 0" 0 "$rc"
echo "$out" | head -1 | grep -qx 'true' && sw_ok "condition true" ||
    sw_fail "condition true: $out"

out=$(Q 'slope(leak.rss, 6h)' --json 2>&1); rc=$?
sw_eq "trend on too little data exits 1" 1 "$rc"
echo "$out" | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["ok"] is False and o["value"] is None, o
assert "half the window" in o["why"], o
assert o["trend"]["function"] == "slope", o
' && sw_ok "no verdict, with why" || sw_fail "no verdict: $out"

out=$(Q 'slop(leak.rss, 1h)' 2>&1); rc=$?
sw_eq "bad expression exits 2" 2 "$rc"
echo "$out" | grep -q '1:1: unknown function slop' && sw_ok "error names the column" ||
    sw_fail "error names the column: $out"
out=$(Q 'max(leak.rss, 1h) > 2s' 2>&1); rc=$?
sw_eq "unit mismatch exits 2" 2 "$rc"

out=$(Q 'last(leak.rss, 1m)' --at 1000000000 2>&1); rc=$?
sw_eq "--at before the data exits 1" 1 "$rc"
echo "$out" | grep -q '^no verdict' && sw_ok "--at before the data: no verdict" ||
    sw_fail "--at: $out"

sw_finish "$T/agent.log" "$T/agent2.log"
