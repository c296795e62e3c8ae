#!/bin/sh
# rules.sh: `slopewatch test` and `slopewatch backtest --csv` end to end.
# Every rules/*.test must pass; a deliberately failing test must exit 1
# with a readable diff; a syntax error must exit 2 with FILE:LINE:COL; and
# backtest's stable outputs (SPEC §2) are checked byte for byte on a small
# CSV mixing RFC 3339, unix-second and unix-millisecond times, with a
# .pid column (a restart).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

# 1. the example rules pass their tests
for t in "$top_srcdir"/rules/*.test; do
	"$SLOPEWATCH" test "$t" >"$T/$(basename "$t").log" 2>&1
	rc=$?
	sw_eq "slopewatch test $(basename "$t") exits 0" 0 "$rc"
	[ "$rc" = 0 ] || cat "$T/$(basename "$t").log"
done

# 2. a failing test: exit 1 and a diff naming rule, expectation and result
cat >"$T/high.rules" <<'R'
rule high  { when last(web.rss, 5m) > 150MB; for 2m; keep 1m }
rule fresh { when count(web.rss, 10m) < 3 }
R
cat >"$T/fail.test" <<'X'
rules high.rules
interval 1m

test "crossing 150 MB"
series web.rss 100MB+10MBx10
expect high firing by 5m
expect high pending between 6m and 7m
X
"$SLOPEWATCH" test "$T/fail.test" >"$T/fail.out" 2>&1
sw_eq "a failing test exits 1" 1 "$?"
cat >"$T/fail.want" <<W
FAIL $T/fail.test:4: test "crossing 150 MB"
  high (line 6)
  - expected: firing by 5m
  + got:      first firing at 8m
    timeline: pending at 6m (160 MB), firing at 8m (180 MB)
ok-count 1 test, 1 failed; 2 expectations, 1 failed
W
sed 's/^1 test/ok-count 1 test/' "$T/fail.out" >"$T/fail.got"
if cmp -s "$T/fail.want" "$T/fail.got"; then
	sw_ok "the failure diff reads expected vs got with times"
else
	sw_fail "the failure diff"; diff "$T/fail.want" "$T/fail.got"
fi

# 3. syntax errors: exit 2, every error with FILE:LINE:COL
cat >"$T/bad.test" <<'X'
rules high.rules
series web.rss 100MB+1MB
expect high firing by soon
expect nosuch none
X
"$SLOPEWATCH" test "$T/bad.test" >"$T/bad.out" 2>&1
sw_eq "a syntax error exits 2" 2 "$?"
sw_check "error at 2:25 (missing xN)" grep -q "bad.test:2:25: expected xN after \"100MB+1MB\"" "$T/bad.out"
sw_check "error at 3:23 (bad time)" grep -q "bad.test:3:23: bad time \"soon\"" "$T/bad.out"
cat >"$T/norule.test" <<'X'
rules high.rules
series web.rss 1x3
expect nosuch none
X
"$SLOPEWATCH" test "$T/norule.test" >"$T/norule.out" 2>&1
sw_eq "an unknown rule exits 2" 2 "$?"
sw_check "unknown rule at 3:8" grep -q "norule.test:3:8: no rule named nosuch" "$T/norule.out"

# 4. backtest --csv: RFC 3339, unix s and unix ms times, a .pid column
cat >"$T/a.csv" <<'C'
time,web.rss,web.pid
2026-01-01T00:00:00Z,100000000,10
2026-01-01T00:01:00Z,200000000,10
1767225720,200000000,10
1767225780000,200000000,11
2026-01-01T00:04:00+00:00,100000000,11
2026-01-01T00:05:00Z,100000000,11
2026-01-01T00:06:00.000Z,100000000,11
C
"$SLOPEWATCH" backtest --csv "$T/a.csv" -c "$T/high.rules" --json >"$T/bt.json" 2>"$T/bt.err"
sw_eq "backtest --json exits 0" 0 "$?"
cat >"$T/bt.want" <<'J'
[
  {"rule": "fresh", "event": "firing", "time": 1767225600000, "value": 1},
  {"rule": "high", "event": "pending", "time": 1767225660000, "value": 200000000},
  {"rule": "fresh", "event": "resolved", "time": 1767225720000, "value": 3},
  {"rule": "high", "event": "firing", "time": 1767225780000, "value": 200000000},
  {"rule": "high", "event": "resolved", "time": 1767225900000, "value": 100000000}
]
J
if cmp -s "$T/bt.want" "$T/bt.json"; then
	sw_ok "backtest --json output is exact"
else
	sw_fail "backtest --json output"; diff "$T/bt.want" "$T/bt.json"
fi
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert all(set(x)=={"rule","event","time","value"} for x in a)' "$T/bt.json"
sw_eq "backtest --json is JSON with the four keys" 0 "$?"

"$SLOPEWATCH" backtest --csv "$T/a.csv" -c "$T/high.rules" high >"$T/bt.txt" 2>&1
sw_eq "backtest text exits 0" 0 "$?"
cat >"$T/bt.txt.want" <<'W'
TIME                      RULE                      EVENT     VALUE
2026-01-01T00:01:00.000Z  high                      pending   200 MB
2026-01-01T00:03:00.000Z  high                      firing    200 MB
2026-01-01T00:05:00.000Z  high                      resolved  100 MB
# 6m of data from 2026-01-01T00:00:00.000Z: 37 evaluations, 3 transitions
W
if cmp -s "$T/bt.txt.want" "$T/bt.txt"; then
	sw_ok "backtest RULE filter and text output"
else
	sw_fail "backtest text output"; diff "$T/bt.txt.want" "$T/bt.txt"
fi

# a CSV error names FILE:LINE:COL and exits 2
printf 'time,web.rss\n1767225600,1\n1767225660,lots\n' >"$T/b.csv"
"$SLOPEWATCH" backtest --csv "$T/b.csv" -c "$T/high.rules" >"$T/b.out" 2>&1
sw_eq "a bad CSV exits 2" 2 "$?"
sw_check "bad CSV value at 3:12" grep -q "b.csv:3:12: bad number \"lots\"" "$T/b.out"
"$SLOPEWATCH" backtest --csv "$T/a.csv" -c "$T/high.rules" nosuch >"$T/c.out" 2>&1
sw_eq "an unknown rule exits 2" 2 "$?"

sw_finish
