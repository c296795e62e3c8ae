#!/bin/sh
# scrape.sh: scrape targets end to end. A tiny server (scrape-server.py)
# serves the committed prom-client fixture on /metrics; the real agent scrapes
# it every second. We check through `show --csv` that the heap-space gauge,
# a histogram bucket and a bucket whose label has escaped quotes, a backslash
# and a newline were stored with the fixture's values, that a metric outside
# the default `keep` list was not, and that `up` is 1. Then the server is
# switched to the same text broken at line 153: the agent must log the line
# number, store `up` 0 and nothing of the broken scrapes (all or nothing),
# and keep the earlier rows. Switching back recovers.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

command -v python3 >/dev/null || sw_skip "python3 not found"
[ -x "$SLOPEWATCH" ] || sw_skip "$SLOPEWATCH not built"

FIX="$top_srcdir/tests/fixtures/prom"
cp "$FIX/promclient.txt" "$T/metrics"
sw_bg "$T/server.log" python3 "$top_srcdir/tests/e2e/scrape-server.py" \
    --file "$T/metrics" --port-file "$T/port"
sw_wait_for 20 test -s "$T/port" || { sw_fail "server did not start"; sw_finish; }
PORT=$(cat "$T/port")

CONF="$T/slopewatch.conf"
sw_conf "$CONF" <<EOF2
data $T/sw.db
scrape app { url http://127.0.0.1:$PORT/metrics; every 1s }
EOF2

sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$CONF"
agent=$SW_LAST_PID

# rows SERIES: data rows of `show SERIES --csv` (header dropped).
rows() {
	"$SLOPEWATCH" show "$1" --since 1h --csv -c "$CONF" 2>/dev/null |
	    awk -F, 'NR == 1 && $1 == "time" { next } NF == 2 { print }'
}
nrows() { rows "$1" | wc -l | tr -d ' '; }
has_rows() { [ "$(nrows "$1")" -ge "$2" ]; }
last() { rows "$1" | tail -n 1 | cut -d, -f2; }
# count_value SERIES V: rows whose value is V (numerically).
count_value() { rows "$1" | awk -F, -v v="$2" '$2 + 0 == v + 0 { n++ } END { print n + 0 }'; }
has_value() { [ "$(count_value "$1" "$2")" -ge "${3:-1}" ]; }

OLD='app.nodejs_heap_space_size_used_bytes{space="old"}'
BUCKET='app.http_request_duration_seconds_bucket{method="GET",route="/checkout",code="200",le="0.1"}'
ESC='app.http_request_duration_seconds_bucket{le="+Inf",route="/api/\"quoted\"\\path\nnext",code="500",method="POST"}'

sw_check "heap old-space series stored with the fixture's value" \
	sw_wait_for 15 has_value "$OLD" 4120752
sw_check "histogram bucket stored (le=0.1 -> 3)" has_value "$BUCKET" 3
sw_check "bucket with escaped label value stored (+Inf -> 2)" has_value "$ESC" 2
sw_check "histogram _sum stored" has_value \
    'app.http_request_duration_seconds_sum{code="200",method="GET",route="/checkout"}' 2.393
sw_check "rss stored" has_value app.process_resident_memory_bytes \
    "$(awk '/^process_resident_memory_bytes /{print $2}' "$FIX/promclient.txt")"
sw_check "eventloop lag stored" has_rows app.nodejs_eventloop_lag_p99_seconds 1
sw_eq "metric outside keep not stored" 0 "$(nrows app.http_requests_total)"
sw_eq "up is 1" 1 "$(last app.up)"
sw_eq "scrape_samples counts the whole text" 90 "$(last app.scrape_samples)"

# wait for a second good scrape, then break the text at line 153
sw_wait_for 10 has_value "$OLD" 4120752 2
good=$(nrows "$OLD")
cp "$FIX/bad/promclient-bad-value.txt" "$T/metrics.new"
mv "$T/metrics.new" "$T/metrics"
sw_check "malformed scrape logged with its line number" \
	sw_wait_for 10 grep -q "app: .*line 153:46: bad value" "$T/agent.log"
sw_check "up 0 stored for a malformed scrape" sw_wait_for 10 has_value app.up 0 2
before=$(nrows "$OLD")
sw_check "another malformed scrape" sw_wait_for 10 has_value app.up 0 4
after=$(nrows "$OLD")
sw_check "earlier rows kept ($good <= $before)" [ "$before" -ge "$good" ]
sw_eq "nothing stored from malformed scrapes" "$before" "$after"
sw_check "agent still running" kill -0 "$agent"

# back to good text: scrapes store again, the target is up again
cp "$FIX/promclient.txt" "$T/metrics.new"
mv "$T/metrics.new" "$T/metrics"
sw_check "good text stored again" sw_wait_for 10 has_rows "$OLD" $((after + 1))
sw_check "recovery logged" sw_wait_for 10 grep -q "app: up again" "$T/agent.log"

# (not $(sw_stop): `wait` in a command substitution's subshell cannot see
# the agent, which is a child of this shell)
kill -TERM "$agent"
wait "$agent"
sw_eq "agent exits 0 on SIGTERM" 0 "$?"
sw_finish "$T/agent.log"
