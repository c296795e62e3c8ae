#!/bin/sh
# endpoint.sh: end-to-end test of endpoint probes. Starts the test server
# tests/e2e/httpd.py twice (HTTP and HTTPS with a self-signed certificate) on
# free 127.0.0.1 ports, runs the real agent on a config with one endpoint per
# case (fast, slow with a timeout, 502, refused, huge body, redirect loop, TLS
# verify / insecure / cacert, an expected 5xx, a probe slower than its
# interval), waits by polling `show` until every case has data, stops the
# agent and checks each case's series and failure kind through `show --csv`
# (header time,value; time in unix ms) and `status --json`.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

command -v python3 >/dev/null || sw_skip "python3 not found"
command -v openssl >/dev/null || sw_skip "openssl not found"
[ -x "$SLOPEWATCH" ] || sw_skip "$SLOPEWATCH not built"

HTTPD="$top_srcdir/tests/e2e/httpd.py"

sw_bg "$T/httpd.log" python3 "$HTTPD" --port-file "$T/http.port"
sw_bg "$T/httpsd.log" python3 "$HTTPD" --tls "$T/tls" --port-file "$T/https.port"
sw_wait_for 20 test -s "$T/http.port" || { sw_fail "http server did not start"; sw_finish; }
sw_wait_for 20 test -s "$T/https.port" || { sw_fail "https server did not start"; sw_finish; }
HP=$(cat "$T/http.port")
SP=$(cat "$T/https.port")
RP=$(sw_free_port)	# nothing listens there
H="http://127.0.0.1:$HP"
S="https://127.0.0.1:$SP"
sw_log "http $HP, https $SP, refused $RP"

CONF="$T/slopewatch.conf"
sw_conf "$CONF" <<EOF
data $T/sw.db

endpoint fast      { url "$H/fast"; every 1s; timeout 10s }
endpoint slow      { url "$H/slow?ms=2000"; every 1s; timeout 300ms }
endpoint e502      { url "$H/status/502"; every 1s; timeout 10s }
endpoint refused   { url "http://127.0.0.1:$RP/"; every 1s; timeout 10s }
endpoint huge      { url "$H/huge?bytes=2097152"; every 1s; timeout 10s; max-body 64KiB }
endpoint loop      { url "$H/redirect-loop"; every 1s; timeout 10s; max-redirects 3 }
endpoint redir     { url "$H/redirect?n=2"; every 1s; timeout 10s; max-redirects 3 }
endpoint tlsverify { url "$S/fast"; every 1s; timeout 10s }
endpoint tlsinsec  { url "$S/fast"; every 1s; timeout 10s; insecure yes }
endpoint tlsca     { url "$S/fast"; every 1s; timeout 10s; cacert $T/tls/cert.pem }
endpoint want5xx   { url "$H/status/503"; every 1s; timeout 10s; expect 500-599 }
endpoint overlap   { url "$H/slow?ms=1500"; every 500ms; timeout 10s }
EOF

# rows SERIES: the data rows of `show SERIES --csv` (no header), or nothing.
# Once the agent has stopped ($CACHE set) each series is read only once:
# every `show` is a process start, slow under sanitizers on a busy machine.
CACHE=
rows() {
	if [ -n "$CACHE" ]; then
		f="$T/cache/$(printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_')"
		[ -f "$f" ] || rows_live "$1" >"$f"
		cat "$f"
	else
		rows_live "$1"
	fi
}
rows_live() {
	"$SLOPEWATCH" show "$1" --since 1h --csv -c "$CONF" 2>/dev/null |
	    awk -F, 'NR == 1 && $1 == "time" { next } NF == 2 { print }'
}
nrows() { rows "$1" | wc -l | tr -d ' '; }
# last SERIES: the newest value.
last() { rows "$1" | tail -n 1 | cut -d, -f2; }
# has_rows SERIES N: at least N rows.
has_rows() { [ "$(nrows "$1")" -ge "$2" ]; }
# num_cmp A OP B: numeric comparison (awk), OP one of == != < <= > >=.
num_cmp() { awk -v a="$1" -v b="$3" "BEGIN { exit !(a + 0 $2 b + 0) }"; }
# expect_num DESC SERIES OP VALUE: the newest value of SERIES compares.
expect_num() {
	v=$(last "$2")
	if [ -n "$v" ] && num_cmp "$v" "$3" "$4"; then sw_ok "$1 ($2 = $v)"
	else sw_fail "$1 ($2 = '${v}', want $3 $4)"; fi
}
# expect_all DESC SERIES OP VALUE: every value of SERIES compares, and
# there is at least one.
expect_all() {
	if bad=$(rows "$2" | awk -F, -v b="$4" -v op="$3" -f "$T/cmp.awk"); then
		[ -z "$bad" ] || bad=$(echo "$bad" | head -n 3 | tr '\n' ' ')
	else
		bad="awk failed"
	fi
	if [ -z "$bad" ]; then sw_ok "$1"; else sw_fail "$1 ($2: $bad)"; fi
}
# expect_any DESC SERIES OP VALUE: at least one value of SERIES compares.
# Used for "is up": on a machine starved of CPU (sanitizers, parallel make
# check) a probe that should succeed can still time out now and then, while
# a broken option (insecure, cacert, expect, max-redirects) fails every one.
expect_any() {
	n=$(nrows "$2")
	if ! bad=$(rows "$2" | awk -F, -v b="$4" -v op="$3" -f "$T/cmp.awk"); then
		sw_fail "$1 (awk failed)"
		return
	fi
	nbad=$(printf '%s\n' "$bad" | grep -c .)
	if [ "$n" -gt 0 ] && [ "$nbad" -lt "$n" ]; then
		sw_ok "$1 ($((n - nbad)) of $n)"
	else
		sw_fail "$1 ($2: none of $n)"
	fi
}
# prints each value of the rows that does not compare, or "no rows"
cat >"$T/cmp.awk" <<'AWK'
{
	a = $2 + 0
	if (op == "==") ok = (a == b)
	else if (op == ">") ok = (a > b)
	else if (op == ">=") ok = (a >= b)
	else if (op == "<") ok = (a < b)
	else if (op == "<=") ok = (a <= b)
	else ok = 0
	if (!ok) print $2
	n++
}
END { if (n == 0) print "no rows" }
AWK

all_have_data() {
	for s in fast.latency slow.up e502.up refused.up huge.up loop.up \
	    redir.up tlsverify.up tlsinsec.up tlsca.up want5xx.up overlap.up; do
		has_rows "$s" 2 || return 1
	done
}

sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$CONF"
AGENT=$SW_LAST_PID
if sw_wait_for 20 has_rows fast.latency 1; then
	sw_ok "agent writes fast.latency"
else
	sw_fail "no fast.latency rows after 20 s"
	cat "$T/agent.log"
	sw_finish
fi
# overlap (1.5 s probes) and slow (timeouts) are the last to have 2 rows;
# poll those cheaply, then check all once more
sw_wait_for 20 has_rows overlap.up 2
sw_wait_for 10 has_rows slow.up 2
sw_check "every endpoint has data" sw_wait_for 10 all_have_data
sw_stop "$AGENT"
sw_eq "agent exits 0 on SIGTERM" 0 "$SW_STOP_STATUS"

# read every series checked below once, four `show`s at a time
CACHE=1
mkdir -p "$T/cache"
PREFETCH='fast.up fast.latency fast.status fast.bytes fast.tls fast.ttfb
    fast.dns fast.connect fast.failures{kind="timeout"} slow.up slow.latency
    slow.failures{kind="timeout"} e502.up e502.status e502.latency
    e502.failures{kind="status"} refused.up refused.failures{kind="refused"}
    huge.up huge.bytes huge.failures{kind="too_big"} loop.up
    loop.failures{kind="redirects"} redir.up redir.status tlsverify.up
    tlsverify.failures{kind="tls"} tlsinsec.up tlsinsec.tls tlsca.up
    want5xx.up want5xx.status overlap.up'
pids=""
n=0
for s in $PREFETCH; do
	rows "$s" >/dev/null &
	pids="$pids $!"
	n=$((n + 1))
	if [ $((n % 4)) -eq 0 ]; then wait $pids; pids=""; fi
done
[ -z "$pids" ] || wait $pids

# fast: up, all timings sane
expect_any "fast is up" fast.up == 1
expect_all "fast.latency > 0" fast.latency ">" 0
expect_all "fast.latency below the timeout" fast.latency "<" 10
expect_all "fast.status is 200" fast.status == 200
expect_all "fast.bytes is 3" fast.bytes == 3
expect_all "fast.tls is 0 over http" fast.tls == 0
expect_all "fast.ttfb > 0" fast.ttfb ">" 0
expect_all "fast.dns >= 0" fast.dns ">=" 0
expect_all "fast.connect >= 0" fast.connect ">=" 0
sw_eq "fast has no failures" 0 "$(nrows 'fast.failures{kind="timeout"}')"

# slow: timed out at 500 ms, no response so no timings
expect_all "slow is down" slow.up == 0
expect_num "slow failures are timeouts" 'slow.failures{kind="timeout"}' ">=" 2
sw_eq "slow has no latency rows (no response)" 0 "$(nrows slow.latency)"

# e502: a response, but not an expected one
expect_all "e502 is down" e502.up == 0
expect_all "e502.status is 502" e502.status == 502
expect_all "e502 has latency (it answered)" e502.latency ">" 0
expect_num "e502 failures are status" 'e502.failures{kind="status"}' ">=" 2
# the failures series is a counter: 1, 2, 3, ...
cnt=$(rows 'e502.failures{kind="status"}' | awk -F, '{ if ($2 + 0 != NR) bad = 1 } END { print bad ? "bad" : "ok" }')
sw_eq "e502 failure counter counts 1, 2, 3..." ok "$cnt"

expect_all "refused is down" refused.up == 0
expect_num "refused failures are refused" 'refused.failures{kind="refused"}' ">=" 2

expect_all "huge is down" huge.up == 0
expect_num "huge failures are too_big" 'huge.failures{kind="too_big"}' ">=" 2
expect_all "huge read stopped before the end" huge.bytes "<" 2097152
expect_all "huge read past the cap" huge.bytes ">" 65536

expect_all "loop is down" loop.up == 0
expect_num "loop failures are redirects" 'loop.failures{kind="redirects"}' ">=" 2
expect_any "redir (2 hops, 3 allowed) is up" redir.up == 1
expect_any "redir ends at 200" redir.status == 200

expect_all "tlsverify is down (self-signed)" tlsverify.up == 0
expect_num "tlsverify failures are tls" 'tlsverify.failures{kind="tls"}' ">=" 2
expect_any "tlsinsec is up (insecure yes)" tlsinsec.up == 1
expect_all "tlsinsec.tls > 0" tlsinsec.tls ">" 0
expect_any "tlsca is up (cacert)" tlsca.up == 1

expect_any "want5xx is up (expect 500-599)" want5xx.up == 1
expect_all "want5xx.status is 503" want5xx.status == 503

# overlap: 1.5 s probes every 500 ms are never started twice: consecutive
# probes start at least 1.5 s apart
gaps=$(rows overlap.up | awk -F, 'NR > 1 && $1 - p < 1450 { print $1 - p } { p = $1 }' | head -n 3 | tr '\n' ' ')
if [ -z "$gaps" ] && has_rows overlap.up 2; then
	sw_ok "overlap: a probe longer than its interval is not started twice"
else
	sw_fail "overlap: probes too close together (ms apart: $gaps)"
fi
expect_any "overlap is up" overlap.up == 1

# status --json names the failure of each target
"$SLOPEWATCH" status --json -c "$CONF" >"$T/status.json" 2>"$T/status.err"
sw_eq "status --json exits 0" 0 "$?"
if python3 - "$T/status.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
text = json.dumps(doc)
want = ["unexpected status 502", "timeout:", "refused:", "tls:",
        "too_big:", "redirects:"]
missing = [w for w in want if w not in text]
if missing:
    print("# missing in status --json:", missing)
    sys.exit(1)
PY
then sw_ok "status --json shows each failure kind"
else sw_fail "status --json shows each failure kind"; fi

sw_check "agent log has no sanitizer report" sw_sanitizer_clean "$T/agent.log"
sw_finish
