#!/bin/sh
# tests/e2e/demo.sh: the `make demo` flow, shortened. The demo target (a real
# HTTP service that leaks 5 MB/s and answers 20 ms slower every second) is
# checked on its own first (it answers, serves /metrics, and turns bad
# requests away), then the real agent watches it for 6 s (`run --for 6s`) and
# the series are read back with `show --csv`: latency, up and rss rows exist,
# are timestamped in unix ms, the service stayed up, its RSS grew and its
# latency grew.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

DT=$top_builddir/contrib/demo/demo-target
[ -x "$DT" ] || { sw_fail "demo-target built ($DT)"; sw_finish; }
[ -x "$SLOPEWATCH" ] || { sw_fail "slopewatch built ($SLOPEWATCH)"; sw_finish; }
command -v python3 >/dev/null 2>&1 || sw_skip "python3 needed for the HTTP checks"

# alive PID: running (not gone, not a zombie waiting to be reaped).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
	Z*|X*|'') return 1 ;;
	esac
	return 0
}
gone() { ! alive "$1"; }

# --- the demo target on its own ------------------------------------------
sw_bg "$T/target.log" "$DT" --port 0 --leak 5MB --latency-ms 5 \
    --latency-growth 20 --pidfile "$T/demo.pid" --duration 60
TPID=$SW_LAST_PID
listening() { grep -q '^demo-target listening on' "$T/target.log"; }
if ! sw_wait_for 10 listening; then
	cat "$T/target.log"
	sw_fail "demo-target starts and prints its port"
	sw_finish
fi
PORT=$(sed -n 's/^demo-target listening on http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$T/target.log")
sw_ok "demo-target listens on 127.0.0.1:$PORT"
sw_eq "demo-target writes its pidfile" "$TPID" "$(cat "$T/demo.pid" 2>/dev/null)"

# One python run (it starts slowly) sends each request on its own connection
# and prints "NAME STATUS-LINE", plus "rss 1" when /metrics has the demo's
# rss as a number.
python3 - "$PORT" >"$T/http.out" 2>&1 <<'EOF'
import re, socket, sys
port = int(sys.argv[1])
def talk(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    out = b""
    try:
        s.sendall(data)
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError as e:
        out += ("<%s>" % type(e).__name__).encode()
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode("latin-1"), body.decode("latin-1")
print("root", talk(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0])
st, body = talk(b"GET /metrics HTTP/1.0\r\n\r\n")
print("metrics", st)
print("rss", 1 if re.search(r"^demo_resident_memory_bytes [1-9][0-9]*$", body, re.M) else 0)
print("garbage", talk(b"hello\r\n\r\n")[0])
print("post", talk(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")[0])
print("big", talk(b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n")[0])
EOF
res() { sed -n "s/^$1 //p" "$T/http.out"; }
sw_eq "GET / answers 200" "HTTP/1.1 200 OK" "$(res root)"
sw_eq "GET /metrics answers 200" "HTTP/1.1 200 OK" "$(res metrics)"
sw_eq "GET /metrics has the demo's rss" 1 "$(res rss)"
sw_eq "a garbage request gets 400" "HTTP/1.1 400 Bad Request" "$(res garbage)"
sw_eq "POST gets 405" "HTTP/1.1 405 Method Not Allowed" "$(res post)"
sw_eq "a 9 KB header gets 431" "HTTP/1.1 431 Request Header Fields Too Large" \
    "$(res big)"
[ "$SW_FAILS" -eq 0 ] || cat "$T/http.out"
sw_check "demo-target survives the bad requests" alive "$TPID"

# --- the agent watching it --------------------------------------------------
sw_conf "$T/demo.conf" <<EOF
data $T/demo.db
endpoint demo { url http://127.0.0.1:$PORT/; every 1s; timeout 5s }
process demo-proc { pidfile $T/demo.pid; every 1s }
EOF
sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$T/demo.conf" --for 6s
APID=$SW_LAST_PID
if sw_wait_for 20 gone "$APID"; then
	wait "$APID"
	rc=$?
	sw_eq "agent stops by itself after --for 6s, status 0" 0 "$rc"
else
	sw_fail "agent stops by itself after --for 6s"
fi

# csv SERIES: `show SERIES --csv`, the stable interface (SPEC §2).
csv() { "$SLOPEWATCH" show "$1" --csv -c "$T/demo.conf" 2>>"$T/show.log"; }
csv demo.latency >"$T/latency.csv"
csv demo.up >"$T/up.csv"
csv demo-proc.rss >"$T/rss.csv"

for s in latency up rss; do
	sw_eq "show $s --csv header" "time,value" "$(head -n 1 "$T/$s.csv")"
	n=$(sed 1d "$T/$s.csv" | grep -c '^[0-9][0-9]*,')
	if [ "$n" -ge 3 ]; then
		sw_ok "$s: $n rows from a 6 s run"
	else
		sw_fail "$s: at least 3 rows (got $n)"
	fi
	sw_check "$s: times are unix ms, increasing" awk -F, '
	    NR > 1 { if ($1 < 1e12 || $1 <= prev) bad = 1; prev = $1 }
	    END { exit bad }' "$T/$s.csv"
done

sw_check "up: the demo stayed up (every value 1)" awk -F, '
    NR > 1 { n++; if ($2 != 1) bad = 1 } END { exit bad || !n }' "$T/up.csv"
# 20 ms/s: a least-squares slope over the rows, so that one probe slowed by
# a loaded machine does not decide it (one +60 ms outlier moves it ~12 ms/s)
sw_check "latency grows (slope >= 5 ms/s; the demo adds 20)" awk -F, '
    NR == 2 { t0 = $1 }
    NR > 1 { x = ($1 - t0) / 1000; y = $2; n++
	sx += x; sy += y; sxx += x * x; sxy += x * y }
    END { d = n * sxx - sx * sx
	exit !(n >= 3 && d > 0 && (n * sxy - sx * sy) / d >= 0.005) }' \
    "$T/latency.csv"
# 5 MB/s over at least 3 s: +15 MB
sw_check "rss grows (last >= first + 8 MB)" awk -F, '
    NR == 2 { f = $2 } NR > 1 { l = $2; n++ }
    END { exit !(n >= 2 && l >= f + 8e6) }' "$T/rss.csv"

if [ "$SW_FAILS" -gt 0 ]; then
	echo "--- agent.log"; tail -n 30 "$T/agent.log"
	echo "--- show.log"; tail -n 10 "$T/show.log"
	for s in latency up rss; do echo "--- $s.csv"; head -n 12 "$T/$s.csv"; done
fi
sw_finish
