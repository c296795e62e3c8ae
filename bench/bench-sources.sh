#!/bin/sh
# bench/bench-sources.sh: what the agent costs at the footprint bar of SPEC §9
# ("100 endpoints and 20 processes every second"). One demo-target (no leak,
# no delay) serves the 100 endpoint paths; 20 sleeping child processes are
# watched by pidfile. The agent runs for a warm-up, then for a measured window
# whose CPU time (utime + stime of /proc/PID/stat) and probe count (endpoint
# `up` and process `rss` rows stored in the window, read back with
# `show --csv`) give "CPU ms per 1000 probes"; RSS is VmRSS and VmHWM at the
# end of the window. As a baseline in the same run, a shell loop doing the
# same probes per round (one curl with the 100 URLs, keep-alive, and 20 reads
# of /proc/PID/status) is measured the same way, when curl exists.
#
# Prints figures only (no timing assertions). Fails only when the agent dies
# or stores no probe at all. Bounded: about 45 s with the defaults.
#
# Environment: top_srcdir, top_builddir, SLOPEWATCH (as for the e2e tests);
# BENCH_SECONDS (measured window, default 25), BENCH_WARMUP (default 5),
# BENCH_BASELINE_ROUNDS (default 5, 0 = no baseline), BENCH_KEEP=1 keeps the
# temp dir.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${SLOPEWATCH:=$top_builddir/agent/slopewatch}"
SECS=${BENCH_SECONDS:-25}
WARM=${BENCH_WARMUP:-5}
ROUNDS=${BENCH_BASELINE_ROUNDS:-5}
N_EP=100
N_PROC=20
DT=$top_builddir/contrib/demo/demo-target

for v in "$SECS" "$WARM" "$ROUNDS"; do
	case $v in
	''|*[!0-9]*) echo "bench-sources: BENCH_* must be whole numbers" >&2; exit 2 ;;
	esac
done
for f in "$SLOPEWATCH" "$DT"; do
	[ -x "$f" ] || { echo "bench-sources: $f missing (run make)" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/sw-bench.XXXXXX") || exit 2
PIDS=""
cleanup() {
	trap - EXIT INT TERM
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
now_ms() { date +%s%3N; }
# cpu_ms PID: utime + stime of a live process, in ms.
cpu_ms() {
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk -v tck="$TICK" '{ printf "%d\n", ($12 + $13) * 1000 / tck }'
}
# kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM).
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# --- the targets -------------------------------------------------------------
"$DT" --port 0 --leak 0 --latency-ms 0 --latency-growth 0 --duration 300 \
    --quiet >"$T/demo-target.log" 2>&1 &
PIDS="$PIDS $!"
PORT=
i=0
while [ $i -lt 50 ] && [ -z "$PORT" ]; do
	sleep 0.1; i=$((i + 1))
	PORT=$(sed -n 's/^demo-target listening on http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' \
	    "$T/demo-target.log")
done
[ -n "$PORT" ] || { echo "bench-sources: demo-target did not start" >&2; exit 1; }

i=1
while [ $i -le $N_PROC ]; do
	sleep 300 &
	PIDS="$PIDS $!"
	echo $! >"$T/p$i.pid"
	i=$((i + 1))
done

umask 077
{
	echo "data $T/bench.db"
	i=1
	while [ $i -le $N_EP ]; do
		echo "endpoint e$i { url http://127.0.0.1:$PORT/p$i; every 1s; timeout 5s }"
		i=$((i + 1))
	done
	i=1
	while [ $i -le $N_PROC ]; do
		echo "process p$i { pidfile $T/p$i.pid; every 1s }"
		i=$((i + 1))
	done
} >"$T/bench.conf"
chmod 600 "$T/bench.conf"

# --- the agent ---------------------------------------------------------------
"$SLOPEWATCH" run -c "$T/bench.conf" --for $((WARM + SECS + 30))s \
    >"$T/agent.log" 2>&1 &
APID=$!
PIDS="$APID $PIDS"
echo "bench-sources: $N_EP endpoints + $N_PROC processes every 1 s;" \
    "warm-up ${WARM} s, measuring ${SECS} s"
sleep "$WARM"
c1=$(cpu_ms "$APID"); t1=$(now_ms)
sleep "$SECS"
c2=$(cpu_ms "$APID"); t2=$(now_ms)
rss=$(kib "$APID" VmRSS); hwm=$(kib "$APID" VmHWM)
if [ -z "$c1" ] || [ -z "$c2" ] || [ -z "$rss" ]; then
	echo "bench-sources: the agent died; last lines of its log:" >&2
	tail -n 20 "$T/agent.log" >&2
	exit 1
fi
kill -TERM "$APID"
wait "$APID"

# count SERIES: "ROWS FAILED" stored in [t1, t2) (failed: a value of 0, for
# `up`), read with `show`, the stable reader.
count() {
	"$SLOPEWATCH" show "$1" --since "$t1" --until "$t2" --csv \
	    --db "$T/bench.db" 2>/dev/null |
	    awk -F, 'NR > 1 && NF == 2 { n++; if ($2 == 0) f++ }
	    END { print n + 0, f + 0 }'
}
# sql_count GLOB METRIC: the same over many targets in one sqlite3 query
# (120 `show` runs take a while on a loaded machine); prints nothing when the
# CLI is missing or the schema is not the one this was written for.
sql_count() {
	command -v sqlite3 >/dev/null 2>&1 || return 0
	sqlite3 -readonly -separator ' ' "$T/bench.db" "
	    SELECT count(*), coalesce(sum(x.v = 0), 0)
	    FROM sample x JOIN series s ON s.id = x.series_id
	    WHERE s.target GLOB '$1' AND s.metric = '$2' AND s.labels = ''
	      AND x.ts >= $t1 AND x.ts < $t2;" 2>/dev/null
}
ep= pr=
# the fast way, if it agrees with `show` on one series
if [ "$(sql_count e1 up)" = "$(count e1.up)" ]; then
	set -- $(sql_count 'e[0-9]*' up) - -
	ep=$1 ep_fail=$2
	set -- $(sql_count 'p[0-9]*' rss) -
	pr=$1
fi
case "$ep$pr" in
*-*|'')	# the slow way: one `show` per series, 20 at a time
	mkdir "$T/counts"
	jobs=
	i=1
	while [ $i -le $((N_EP + N_PROC)) ]; do
		if [ $i -le $N_EP ]; then s="e$i.up"; else s="p$((i - N_EP)).rss"; fi
		count "$s" >"$T/counts/$s" &
		jobs="$jobs $!"
		if [ $((i % 20)) -eq 0 ]; then
			# only these: a bare `wait` would wait for the sleepers
			# shellcheck disable=SC2086
			wait $jobs
			jobs=
		fi
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	[ -z "$jobs" ] || wait $jobs
	set -- $(cat "$T"/counts/e*.up |
	    awk '{ n += $1; f += $2 } END { print n + 0, f + 0 }') 0 0
	ep=$1 ep_fail=$2
	set -- $(cat "$T"/counts/p*.rss | awk '{ n += $1 } END { print n + 0 }') 0
	pr=$1
	;;
esac
probes=$((ep + pr))
cpu=$((c2 - c1))
wall=$((t2 - t1))
expect=$(( (N_EP + N_PROC) * wall / 1000 ))
dbsize=$(wc -c <"$T/bench.db" 2>/dev/null || echo 0)

echo "  probes stored in the window: $probes of ~$expect due" \
    "($ep endpoint, $ep_fail of them failed; $pr process)"
awk -v c="$cpu" -v w="$wall" 'BEGIN {
    printf "  agent CPU: %d ms in %.1f s (%.2f%% of one core)\n", c, w / 1000, 100 * c / w }'
if [ "$probes" -gt 0 ]; then
	awk -v c="$cpu" -v p="$probes" 'BEGIN {
	    printf "agent CPU ms per 1000 probes: %.1f\n", c * 1000 / p }'
else
	echo "agent CPU ms per 1000 probes: n/a (no probe stored)"
fi
echo "agent RSS: $(mib "$rss") MiB (peak $(mib "$hwm") MiB)"
echo "  store after the run: $(mib $((dbsize / 1024))) MiB"

# --- baseline: the same probes from a shell loop -----------------------------
if [ "$ROUNDS" -gt 0 ] && command -v curl >/dev/null 2>&1; then
	urls=
	i=1
	while [ $i -le $N_EP ]; do
		urls="$urls http://127.0.0.1:$PORT/p$i"
		i=$((i + 1))
	done
	# One round per second: one curl for the 100 URLs, then VmRSS of the
	# 20 processes read with shell built-ins; `times` gives the CPU of the
	# loop and all its children.
	sh -c '
	    rounds=$1 dir=$2 nproc=$3; shift 3
	    r=0
	    while [ $r -lt "$rounds" ]; do
		curl -s -o /dev/null --max-time 5 "$@"
		i=1
		while [ $i -le "$nproc" ]; do
			read -r pid <"$dir/p$i.pid"
			while read -r k v rest; do
				[ "$k" = VmRSS: ] && break
			done <"/proc/$pid/status"
			i=$((i + 1))
		done
		r=$((r + 1))
		sleep 1
	    done
	    times' - "$ROUNDS" "$T" "$N_PROC" $urls >"$T/baseline.times" 2>&1
	bcpu=$(awk '{ for (i = 1; i <= NF; i++)
	    if (match($i, /^[0-9]+m[0-9.]+s$/)) {
		split($i, a, "m"); sub(/s$/, "", a[2]); t += a[1] * 60 + a[2] } }
	    END { printf "%d\n", t * 1000 }' "$T/baseline.times")
	awk -v c="$bcpu" -v p=$((ROUNDS * (N_EP + N_PROC))) -v r="$ROUNDS" 'BEGIN {
	    printf "baseline (shell loop: curl + /proc reads, %d rounds): CPU ms per 1000 probes: %.1f\n",
		r, c * 1000 / p }'
else
	echo "baseline: skipped (no curl, or BENCH_BASELINE_ROUNDS=0)"
fi

[ "$probes" -gt 0 ]
