#!/bin/sh
# contrib/demo/run-demo.sh BUILDDIR: the `make demo` show. Starts
# contrib/demo/demo-target (an HTTP service on 127.0.0.1 that leaks 2 MB/s and
# answers 5 ms slower every second), writes a config that watches it (the
# endpoint and the process, every second), runs `slopewatch run --for 20s`,
# prints what the agent has stored every few seconds (read back with
# `slopewatch show --csv`, the stable interface), then the last rows and a
# summary. Builds nothing (`make demo` builds first). Ends by itself after
# about 22 s; Ctrl-C stops the agent early and still prints the summary.
# Every process it starts is stopped on the way out.
#
# Files: BUILDDIR/demo/{demo.conf,demo.pid,agent.log,demo-target.log} and the
# store BUILDDIR/demo.db, kept afterwards so that you can look around:
#   BUILDDIR/agent/slopewatch show demo.latency --csv -c BUILDDIR/demo/demo.conf
#
# Environment: DEMO_SECONDS (default 20, at most 600), SLOPEWATCH (the agent
# binary), DEMO_LEAK (default 2MB per second), DEMO_GROWTH (ms/s, default 5).
set -u

B=${1:-}
if [ -z "$B" ] || [ ! -d "$B" ]; then
	echo "usage: run-demo.sh BUILDDIR (or: make demo)" >&2
	exit 2
fi
B=$(cd "$B" && pwd)
SW=${SLOPEWATCH:-$B/agent/slopewatch}
DT=$B/contrib/demo/demo-target
W=$B/demo
DB=$B/demo.db
CONF=$W/demo.conf
SECS=${DEMO_SECONDS:-20}
LEAK=${DEMO_LEAK:-2MB}
GROWTH=${DEMO_GROWTH:-5}

case $SECS in
''|*[!0-9]*) echo "run-demo.sh: DEMO_SECONDS must be a number" >&2; exit 2 ;;
esac
[ "$SECS" -ge 3 ] && [ "$SECS" -le 600 ] || {
	echo "run-demo.sh: DEMO_SECONDS must be 3-600" >&2; exit 2; }
for f in "$SW" "$DT"; do
	if [ ! -x "$f" ]; then
		echo "run-demo.sh: $f is missing: run make first (or make demo)" >&2
		exit 2
	fi
done

AGENT_PID=
TARGET_PID=
# alive PID: running, not a zombie waiting to be reaped.
alive() {
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
	''|Z*|X*) return 1 ;;
	esac
	return 0
}
# stop PID: SIGTERM, then SIGKILL after 5 s.
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while alive "$1" && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}
cleanup() {
	trap - EXIT INT TERM
	stop "$AGENT_PID"
	stop "$TARGET_PID"
}
# The first Ctrl-C stops the agent early (it flushes) and the summary of
# what was stored still prints; a second one quits at once.
INTERRUPTED=
on_interrupt() {
	if [ -n "$INTERRUPTED" ] || [ -z "$AGENT_PID" ]; then
		echo; echo "demo: interrupted"; exit 130
	fi
	INTERRUPTED=1
	echo; echo "demo: interrupted: stopping the agent (again to quit at once)"
	# Ctrl-C on a terminal reaches the agent too, and a second signal
	# would cut its final flush short: give it 1.5 s to stop on its own.
	i=0
	while alive "$AGENT_PID" && [ $i -lt 15 ]; do
		sleep 0.1; i=$((i + 1))
	done
	kill -TERM "$AGENT_PID" 2>/dev/null
}
trap cleanup EXIT
trap on_interrupt INT TERM

mkdir -p "$W" || exit 2
rm -f "$DB" "$DB-wal" "$DB-shm" "$W/demo.pid" "$CONF"

# --- the service under watch --------------------------------------------
# It stops by itself a little after the agent, even if this script is killed.
"$DT" --port 0 --leak "$LEAK" --latency-ms 20 --latency-growth "$GROWTH" \
    --pidfile "$W/demo.pid" --duration $((SECS + 15)) \
    >"$W/demo-target.log" 2>&1 &
TARGET_PID=$!
PORT=
i=0
while [ $i -lt 50 ]; do
	PORT=$(sed -n 's/^demo-target listening on http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' \
	    "$W/demo-target.log" 2>/dev/null)
	[ -n "$PORT" ] && break
	alive "$TARGET_PID" || break
	sleep 0.1; i=$((i + 1))
done
if [ -z "$PORT" ]; then
	echo "demo: demo-target did not start:" >&2
	cat "$W/demo-target.log" >&2
	exit 1
fi
echo "demo: $(head -n 1 "$W/demo-target.log")"

# --- the config -----------------------------------------------------------
# 0600: slopewatch refuses configs others may write.
umask 077
cat >"$CONF" <<EOF
# Written by contrib/demo/run-demo.sh for \`make demo\`.
data $DB

# the demo service's latency, status and failures, every second
endpoint demo { url http://127.0.0.1:$PORT/; every 1s; timeout 5s }

# its memory (RSS and more), the process found by its pidfile, every second
process demo-proc { pidfile $W/demo.pid; every 1s }
EOF
chmod 600 "$CONF"
echo "demo: config $CONF:"
sed -n '/^[a-z]/s/^/    /p' "$CONF"

if ! "$SW" check -c "$CONF" >/dev/null 2>"$W/check.log"; then
	echo "demo: slopewatch check rejected the config:" >&2
	cat "$W/check.log" >&2
	exit 1
fi

# --- the agent ------------------------------------------------------------
"$SW" run -c "$CONF" --for "${SECS}s" >"$W/agent.log" 2>&1 &
AGENT_PID=$!
echo "demo: slopewatch run --for ${SECS}s (pid $AGENT_PID, log $W/agent.log)"
echo "demo: watching; Ctrl-C stops early"

# csv SERIES: the series' rows (header first), nothing when none.
csv() {
	"$SW" show "$1" --csv -c "$CONF" 2>/dev/null
}
# summary SERIES: "N FIRST LAST" of a series' values ("0 - -" when empty).
summary() {
	csv "$1" | awk -F, 'NR > 1 && NF == 2 { if (!n) f = $2; l = $2; n++ }
	    END { if (n) print n, f, l; else print "0 - -" }'
}
# human VALUE UNIT: ms for seconds, MB for bytes.
human() {
	awk -v v="$1" -v u="$2" 'BEGIN {
	    if (v == "-") { print "-"; exit }
	    if (u == "s") printf "%.1f ms\n", v * 1000
	    else if (u == "B") printf "%.1f MB\n", v / 1e6
	    else print v }'
}

start=$(date +%s)
shown=0
while alive "$AGENT_PID"; do
	sleep 1
	t=$(($(date +%s) - start))
	[ $((t - shown)) -ge 3 ] || continue
	shown=$t
	set -- $(summary demo.latency) 0 - -
	lat_n=$1 lat=$3
	set -- $(summary demo.up) 0 - -
	up=$3
	set -- $(summary demo-proc.rss) 0 - -
	rss_n=$1 rss=$3
	printf 'demo: t=%3ss  latency %-10s up %-2s rss %-10s (%s latency, %s rss samples stored)\n' \
	    "$t" "$(human "$lat" s)" "$up" "$(human "$rss" B)" "$lat_n" "$rss_n"
done
wait "$AGENT_PID"
rc=$?
AGENT_PID=
echo "demo: agent exited with status $rc"
if [ "$rc" -ne 0 ] && [ -z "$INTERRUPTED" ]; then
	echo "demo: last lines of $W/agent.log:"
	tail -n 15 "$W/agent.log"
fi

# --- what is in the store -------------------------------------------------
for s in demo.latency demo-proc.rss; do
	csv "$s" >"$W/$s.csv"
	echo
	echo "\$ slopewatch show $s --csv -c $CONF   # header, last 5 of $(($(wc -l <"$W/$s.csv") - 1)) rows"
	sed -n '1p' "$W/$s.csv"
	sed '1d' "$W/$s.csv" | tail -n 5
done
echo

total=0
detail=
for s in demo.latency demo.up demo-proc.rss slopewatch.rss; do
	set -- $(summary "$s") 0 - -
	total=$((total + $1))
	detail="$detail${detail:+, }$1 $s"
done
# trend FILE SCALE UNIT: first -> last, and the change per second.
trend() {
	awk -F, -v k="$2" -v u="$3" '
	    NR > 1 && NF == 2 { if (!n) { t0 = $1; v0 = $2 } t1 = $1; v1 = $2; n++ }
	    END {
		if (n < 2 || t1 <= t0) { print "-"; exit }
		printf "%.1f %s -> %.1f %s (%+.2f %s/s)\n", v0 * k, u, v1 * k, u,
		    (v1 - v0) * k / ((t1 - t0) / 1000), u }' "$1"
}
echo "demo: $total samples in $DB ($detail)"
echo "demo: latency $(trend "$W/demo.latency.csv" 1000 ms)"
echo "demo: rss     $(trend "$W/demo-proc.rss.csv" 0.000001 MB)"
echo "demo: look again with: $SW show demo.latency -c $CONF"
[ "$total" -gt 0 ]
