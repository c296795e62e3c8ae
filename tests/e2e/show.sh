#!/bin/sh
# show.sh: `slopewatch show` and `slopewatch status` on a store with known
# contents (written by tests/unit/mkstore with the real store code): the
# stable --csv and --json shapes of SPEC §2 compared exactly, time ranges,
# events, unknown series, usage errors and exit codes, a missing or corrupt
# database, and reading while a writer holds a write transaction.
. "$top_srcdir/tests/e2e/lib.sh"

MKSTORE="$top_builddir/tests/unit/mkstore"
[ -x "$SLOPEWATCH" ] || sw_skip "no $SLOPEWATCH"
[ -x "$MKSTORE" ] || sw_skip "no $MKSTORE"
command -v python3 >/dev/null || sw_skip "no python3"
# the interpreter itself: a version-manager shim costs seconds per start
PY=$(python3 -c 'import sys; print(sys.executable)') || sw_skip "python3 fails"
unset SLOPEWATCH_CONF
cd "$T" || exit 1

DB=$T/s.db
T0=1700000040000
if ! "$MKSTORE" "$DB" >"$T/mkstore.log" 2>&1; then
	cat "$T/mkstore.log"
	sw_fail "mkstore writes the fixture"
	sw_finish
fi

# sw_run NAME ARGS...: runs slopewatch, stdout in $T/NAME.out, stderr in
# $T/NAME.log, exit status in $rc.
sw_run() {
	name=$1; shift
	"$SLOPEWATCH" "$@" >"$T/$name.out" 2>"$T/$name.log"
	rc=$?
}

# --- show --csv: exact bytes
sw_run csv show web.rss --since $T0 --csv --db "$DB"
sw_eq "show --csv exits 0" 0 "$rc"
printf 'time,value\n1700000040000,812000000\n1700000050000,812500000.25\n1700000060000,0.1\n1700000070000,0.3333333333333333\n1700000080000,1.2345678901234568e+17\n' >"$T/csv.want"
sw_check "show --csv prints the header then every sample, exactly" \
	cmp -s "$T/csv.want" "$T/csv.out"

sw_run range show web.rss --since $T0 --until 1700000060000 --csv --db "$DB"
sw_eq "--until is exclusive" "time,value
1700000040000,812000000
1700000050000,812500000.25" "$(cat "$T/range.out")"

sw_run old show web.rss --since 1700000000 --csv --db "$DB"
sw_eq "--since in unix seconds leaves out the older sample" 6 \
	"$(wc -l <"$T/old.out" | tr -d ' ')"
sw_run older show web.rss --since 2023-11-13T00:00:00Z --csv --db "$DB"
sw_eq "--since RFC 3339 takes in the older sample" 7 \
	"$(wc -l <"$T/older.out" | tr -d ' ')"

sw_run dflt show web.cpu --csv --db "$DB"
sw_eq "--since defaults to 1h" 2 "$(wc -l <"$T/dflt.out" | tr -d ' ')"
sw_eq "... and keeps the recent sample" "2" "$(tail -n 1 "$T/dflt.out" | cut -d, -f2)"

sw_run inf show 'checkout.latency{code="200"}' --since $T0 --csv --db "$DB"
sw_eq "labels and +Inf in CSV" "time,value
1700000040000,0.25
1700000050000,+Inf" "$(cat "$T/inf.out")"

# --- show --json: parsed, compared as data (doubles round-trip)
sw_run json show web.rss --since $T0 --json --db "$DB"
sw_eq "show --json exits 0" 0 "$rc"
sw_check "show --json is an array of {time, value}, values exact" "$PY" -c '
import json, sys
got = json.load(open(sys.argv[1]))
want = [{"time": 1700000040000 + 10000 * i, "value": v} for i, v in
        enumerate([812000000, 812500000.25, 0.1, 1 / 3, 123456789012345678.0])]
assert got == want, got
assert all(list(o) == ["time", "value"] for o in got)
' "$T/json.out"
sw_run jinf show 'checkout.latency{code="200"}' --since $T0 --json --db "$DB"
sw_check "+Inf is null in JSON" "$PY" -c '
import json, sys
assert json.load(open(sys.argv[1])) == [{"time": 1700000040000, "value": 0.25},
    {"time": 1700000050000, "value": None}]' "$T/jinf.out"
sw_run jempty show web.rss --since $T0 --until $T0 --json --db "$DB"
sw_eq "an empty range is [] in JSON" "[]" "$(cat "$T/jempty.out")"

# --- text
sw_run text show web.rss --since $T0 --db "$DB"
sw_eq "text exits 0" 0 "$rc"
sw_check "text has RFC 3339 UTC times" grep -q '^2023-11-14T22:14:10.000Z ' "$T/text.out"
sw_eq "text has a header and 5 rows" 6 "$(wc -l <"$T/text.out" | tr -d ' ')"

# --- events
sw_run ev show web --events --since $T0 --csv --db "$DB"
sw_eq "show --events --csv" 'time,target,kind,pid,detail
1700000055000,web,restart,4242,"{""old_pid"":4241,""reason"":""oom, \""killed\""""}"' \
	"$(cat "$T/ev.out")"
sw_run evj show web.rss --events --since $T0 --json --db "$DB"
sw_check "show --events --json keeps the detail as JSON" "$PY" -c '
import json, sys
e = json.load(open(sys.argv[1]))
assert len(e) == 1 and e[0]["kind"] == "restart" and e[0]["pid"] == 4242, e
assert e[0]["detail"] == {"old_pid": 4241, "reason": "oom, \"killed\""}, e
' "$T/evj.out"
sw_run evt show checkout --events --since $T0 --db "$DB"
sw_check "show --events text" grep -q 'action' "$T/evt.out"

# --- more than one read chunk (4096 samples, 128 events)
sw_run big show big.n --since $T0 --csv --db "$DB"
sw_check "10000 samples across chunks, each once, in order" "$PY" -c '
import sys
rows = open(sys.argv[1]).read().split("\n")
assert rows[0] == "time,value" and rows[-1] == "", rows[:2]
want = ["%d,%d" % (1700000040000 + i, i) for i in range(10000)]
assert rows[1:-1] == want, len(rows)' "$T/big.out"
sw_run bigev show big --events --since 0 --csv --db "$DB"
sw_check "300 events on 3 timestamps across chunks, each once" "$PY" -c '
import sys
rows = open(sys.argv[1]).read().split("\n")[1:-1]
assert [int(r.split(",")[3]) for r in rows] == list(range(300)), rows[:3]' "$T/bigev.out"

# --- problems and usage
sw_run unknown show web.rsss --db "$DB"
sw_eq "unknown series exits 1" 1 "$rc"
sw_check "... and names close series" grep -q 'no series web.rsss; known series: web.rss' "$T/unknown.log"
sw_run badname show webrss --db "$DB"
sw_eq "a malformed name exits 2" 2 "$rc"
sw_check "... and says why" grep -q 'expected TARGET.METRIC' "$T/badname.log"
sw_run noarg show --db "$DB"
sw_eq "show without a series exits 2" 2 "$rc"
sw_run both show web.rss --json --csv --db "$DB"
sw_eq "--json with --csv exits 2" 2 "$rc"
sw_run badsince show web.rss --since yesterday --db "$DB"
sw_eq "a bad --since exits 2" 2 "$rc"
sw_run help show --help
sw_eq "show --help exits 0" 0 "$rc"
sw_check "show --help prints the usage" grep -q '^usage: slopewatch show SERIES' "$T/help.out"
sw_run shelp status --help
sw_eq "status --help exits 0" 0 "$rc"
sw_run sextra status extra --db "$DB"
sw_eq "status with an argument exits 2" 2 "$rc"

sw_run missing show web.rss --db "$T/none.db"
sw_eq "a missing database exits 2" 2 "$rc"
sw_check "... naming it" grep -q "$T/none.db" "$T/missing.log"
sw_check "... without creating it" test ! -e "$T/none.db"
head -c 8192 /dev/urandom >"$T/junk.db"
sw_run junk status --db "$T/junk.db"
sw_eq "a corrupt database exits 2" 2 "$rc"
sw_check "... with a clear message" grep -q "junk.db.*not a database" "$T/junk.log"

# --- status
sw_run status status --db "$DB"
sw_eq "status exits 0" 0 "$rc"
sw_check "status text: web up" grep -q '^web (process): up' "$T/status.out"
sw_check "status text: checkout down" grep -q '^checkout (endpoint): down' "$T/status.out"
sw_check "status text: the instance" grep -q 'pid 4242, started 2023-11-14T22:14:15.000Z' "$T/status.out"
sw_check "status text: the last error" grep -q 'connection refused' "$T/status.out"
sw_check "status text: recent events" grep -q 'restart' "$T/status.out"
sw_run sjson status --json --db "$DB"
sw_eq "status --json exits 0" 0 "$rc"
sw_check "status --json: targets, series, events" "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in d["targets"]}
assert sorted(t) == ["big", "checkout", "web"], t
w, c = t["web"], t["checkout"]
assert w["kind"] == "process" and w["up"] is True and w["pid"] == 4242, w
assert w["started"] == 1700000055000 and w["failures"] == 2, w
assert w["last_error"] == "smaps_rollup: process gone", w
assert c["up"] is False and c["failures"] == 7 and c["pid"] is None, c
assert c["last_error"] == "connection refused", c
s = {x["name"]: x for x in w["series"]}
assert s["web.rss"]["value"] == 123456789012345678.0, s
assert s["web.rss"]["time"] == 1700000080000 and s["web.rss"]["unit"] == "bytes", s
assert w["last_sample"] >= 1700000080000, w
cs = c["series"][0]
assert cs["name"] == "checkout.latency{code=\"200\"}" and cs["value"] is None, cs
k = [e["kind"] for e in d["events"]]
assert len(k) == 10 and k[-2:] == ["restart", "action"], k
assert d["events"][-2]["detail"]["old_pid"] == 4241, d["events"]
' "$T/sjson.out"

# --- reading while a writer holds a write transaction
sw_bg "$T/hold.log" "$MKSTORE" --hold "$DB"
if sw_wait_for 10 grep -q holding "$T/hold.log"; then
	sw_run held show web.rss --since $T0 --csv --db "$DB"
	sw_eq "show reads beside a writer's open transaction" 0 "$rc"
	sw_check "... and sees only committed samples" cmp -s "$T/csv.want" "$T/held.out"
	sw_run heldst status --json --db "$DB"
	sw_eq "status reads beside a writer" 0 "$rc"
else
	cat "$T/hold.log"
	sw_fail "the writer holds the database"
fi

sw_finish
