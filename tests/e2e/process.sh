#!/bin/sh
# tests/e2e/process.sh: process targets against real child processes.
#
# One agent watches three targets, sampling every 250 ms:
#   leak  a leaker growing at a known rate: the rss slope matches it (5%);
#         killed and started again under the same pidfile: a restart event
#         with the new pid, and the new instance in `status`
#   tree  a forking tree (children yes): rss is the sum of the VmRSS of
#         every process of the tree as read from /proc by this test (10%)
#   dead  a pidfile naming a dead pid: down in `status`, and the agent log
#         says so once instead of every interval
. "$top_srcdir/tests/e2e/lib.sh"

LEAKER="$top_builddir/tests/helpers/leaker"
[ -x "$LEAKER" ] || sw_skip "no $LEAKER (make check builds it)"
[ -x "$SLOPEWATCH" ] || sw_skip "no $SLOPEWATCH"
command -v python3 >/dev/null || sw_skip "no python3"
# the interpreter itself, resolved once: a version manager's shim costs
# seconds per start on a loaded machine
PY=$(python3 -c 'import sys; print(sys.executable)')
[ -r /proc/self/smaps_rollup ] || sw_skip "no /proc/PID/smaps_rollup (Linux >= 4.14)"

RATE=20000000		# bytes per second
LEAK_S=4		# seconds of growth

# The dead pid: a process that has exited and been reaped.
sh -c 'exit 0' &
dead=$!
wait $dead
echo "$dead" >"$T/dead.pid"

sw_conf "$T/sw.conf" <<EOF
data $T/sw.db
process leak { pidfile $T/leak.pid; every 250ms }
process tree { pidfile $T/tree.pid; every 250ms; children yes }
process dead { pidfile $T/dead.pid; every 250ms }
EOF

sw_bg "$T/tree.log" "$LEAKER" --rate 0 --hold 20000000 --children 3 \
    --grandchild --pidfile "$T/tree.pid"
sw_wait_for 5 test -s "$T/tree.pid" || { sw_fail "tree wrote its pidfile"; sw_finish; }

sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$T/sw.conf"
agent=$SW_LAST_PID

# The agent is collecting once the tree shows up in `status`.
tree_up() {
	[ "$("$SLOPEWATCH" show tree.rss --csv --since 1h -c "$T/sw.conf" 2>/dev/null | wc -l)" -ge 2 ]
}
sw_wait_for 10 tree_up || { sw_fail "agent is collecting"; cat "$T/agent.log"; sw_finish "$T/agent.log"; }

# Then the leak, logging what it really allocated and when.
sw_bg "$T/leaker1.log" "$LEAKER" --rate $RATE --duration $LEAK_S \
    --pidfile "$T/leak.pid" --log "$T/truth.log"
sw_wait_for 5 test -s "$T/leak.pid" || { sw_fail "leaker wrote its pidfile"; sw_finish; }
pid1=$(cat "$T/leak.pid")

# Wait until the growth ended and the store holds samples past its end.
after_growth() {
	last=$(tail -1 "$T/truth.log" 2>/dev/null)
	[ "${last#* }" = $((RATE * LEAK_S)) ] || return 1
	"$SLOPEWATCH" show leak.rss --csv --since 1h -c "$T/sw.conf" >"$T/rss.csv" 2>/dev/null || return 1
	lastrow=$(tail -1 "$T/rss.csv")
	[ "${lastrow%%,*}" -ge $((${last% *} + 500)) ] 2>/dev/null
}
if sw_wait_for 15 after_growth; then
	sw_ok "leak.rss samples cover the growth"
else
	sw_fail "leak.rss samples cover the growth"
	cat "$T/agent.log"
	sw_finish "$T/agent.log"
fi
head -1 "$T/rss.csv" | grep -qx 'time,value' && sw_ok "csv header" || sw_fail "csv header"

# Least squares over the straight part of the growth, for the samples and
# for the leaker's own record. On an idle machine both are $RATE; on a
# loaded one the leaker may fall behind its schedule, and what the agent
# must show is the rate the process really leaked at.
"$PY" - "$T/rss.csv" "$T/truth.log" $RATE >"$T/slope.txt" <<'PY'
import sys
def fit(pts):
    n = len(pts)
    mt = sum(p[0] for p in pts) / n
    mv = sum(p[1] for p in pts) / n
    num = sum((p[0] - mt) * (p[1] - mv) for p in pts)
    den = sum((p[0] - mt) ** 2 for p in pts)
    return num / den
truth = [tuple(int(x) for x in l.split()) for l in open(sys.argv[2]) if l.strip()]
lo, hi = truth[0][0] + 300, truth[-1][0] - 300
samples = []
for l in open(sys.argv[1]).read().split("\n")[1:]:
    if l:
        t, v = l.split(",")
        if lo <= int(t) <= hi:
            samples.append((int(t) / 1000.0, float(v)))
real = fit([(t / 1000.0, float(b)) for t, b in truth if lo <= t <= hi])
got = fit(samples) if len(samples) >= 5 else float("nan")
ok = abs(got - real) <= 0.05 * real and real >= 0.5 * int(sys.argv[3])
print("%.0f %.0f %d %s" % (got, real, len(samples), "ok" if ok else "bad"))
PY
read -r slope real npts verdict <"$T/slope.txt"
sw_log "rss slope $slope B/s over $npts samples; the leaker's own record says $real B/s (nominal $RATE)"
if [ "$verdict" = ok ]; then
	sw_ok "rss slope within 5% of the leak rate"
else
	sw_fail "rss slope within 5% of the leak rate (got $slope, leaked $real)"
	cat "$T/rss.csv"
fi

# The tree: every process of it, read from /proc here.
tree_check() {
	"$SLOPEWATCH" status --json -c "$T/sw.conf" >"$T/status.json" 2>/dev/null || return 1
	"$PY" - "$T/status.json" "$(cat "$T/tree.pid")" <<'PY'
import json, os, sys
root = int(sys.argv[2])
st = json.load(open(sys.argv[1]))
t = [x for x in st["targets"] if x["name"] == "tree"][0]
vals = {s["metric"]: s["value"] for s in t["series"]}
ppid = {}
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            s = open("/proc/%s/stat" % d).read()
            ppid[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
        except OSError:
            pass
tree, todo = [], [root]
while todo:
    p = todo.pop()
    tree.append(p)
    todo += [c for c, pp in ppid.items() if pp == p]
rss = 0
for p in tree:
    for l in open("/proc/%d/status" % p):
        if l.startswith("VmRSS:"):
            rss += int(l.split()[1]) * 1024
print("tree: %d processes, agent %s processes, rss %s, /proc %d" %
      (len(tree), vals.get("processes"), vals.get("rss"), rss))
ok = (vals.get("processes") == len(tree) == 5 and vals.get("rss") is not None
      and abs(vals["rss"] - rss) <= 0.10 * rss)
sys.exit(0 if ok else 1)
PY
}
if sw_wait_for 5 tree_check; then
	sw_ok "tree rss is the sum over the 5 processes (10%)"
else
	tree_check
	sw_fail "tree rss is the sum over the 5 processes (10%)"
fi

# Restart: kill the leaker, start another under the same pidfile.
kill -KILL "$pid1"
wait "$pid1" 2>/dev/null
sw_bg "$T/leaker2.log" "$LEAKER" --rate 0 --hold 4000000 --pidfile "$T/leak.pid"
pid2=$SW_LAST_PID
restarted() {
	"$SLOPEWATCH" show leak.rss --events --csv --since 1h -c "$T/sw.conf" 2>/dev/null |
	    grep -q ",leak,restart,$pid2,"
}
sw_wait_for 10 restarted
"$SLOPEWATCH" show leak.rss --events --json --since 1h -c "$T/sw.conf" >"$T/events.json" 2>/dev/null
if "$PY" - "$T/events.json" "$pid1" "$pid2" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
p1, p2 = int(sys.argv[2]), int(sys.argv[3])
starts = [e for e in ev if e["kind"] == "start" and e["pid"] == p1]
rs = [e for e in ev if e["kind"] == "restart" and e["pid"] == p2]
# down until the leaker started; a stop when a collection saw the old one
# gone before the new one was there
kinds = [e["kind"] for e in ev]
if kinds[:1] == ["down"]:
    kinds = kinds[1:]
ok = (kinds in (["start", "restart"], ["start", "stop", "restart"]) and
      len(starts) == 1 and len(rs) == 1 and rs[0]["detail"]["old_pid"] == p1
      and rs[0]["detail"]["started_ms"] > starts[0]["detail"]["started_ms"])
sys.exit(0 if ok else 1)
PY
then
	sw_ok "a restart event names the new and the old instance"
else
	sw_fail "a restart event names the new and the old instance"
	cat "$T/events.json"
fi
new_pid() {
	lastrow=$("$SLOPEWATCH" show leak.pid --csv --since 1h -c "$T/sw.conf" 2>/dev/null | tail -1)
	[ "${lastrow#*,}" = "$pid2" ] || [ "${lastrow#*,}" = "$pid2.0" ]
}
sw_wait_for 5 new_pid
"$SLOPEWATCH" status --json -c "$T/sw.conf" >"$T/status.json" 2>/dev/null
if "$PY" - "$T/status.json" "$pid2" 8 <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in st["targets"]}
leak, dead = t["leak"], t["dead"]
ok = (leak["up"] is True and leak["pid"] == int(sys.argv[2]) and
      dead["up"] is False and dead["pid"] is None and
      "is not running" in (dead["last_error"] or "") and
      dead["failures"] >= int(sys.argv[3]))
sys.exit(0 if ok else 1)
PY
then
	sw_ok "status: leak runs as the new instance, dead is down"
else
	sw_fail "status: leak runs as the new instance, dead is down"
	cat "$T/status.json"
fi

# dead: down for many intervals, yet only a line or two in the log.
n=$(grep -c ' dead: ' "$T/agent.log")
if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
	sw_ok "dead target logged once, not every interval ($n lines)"
else
	sw_fail "dead target logged once, not every interval ($n lines)"
	grep ' dead: ' "$T/agent.log" | head -20
fi
"$SLOPEWATCH" show dead.rss --events --json --since 1h -c "$T/sw.conf" >"$T/dead.json" 2>/dev/null
if "$PY" -c "
import json, sys
ev = json.load(open('$T/dead.json'))
sys.exit(0 if [e['kind'] for e in ev] == ['down'] else 1)" 2>/dev/null; then
	sw_ok "dead target: one down event"
else
	sw_fail "dead target: one down event"
	cat "$T/dead.json"
fi

sw_stop "$agent"
sw_eq "agent exits 0 on SIGTERM" 0 "$SW_STOP_STATUS"
sw_finish "$T/agent.log"
