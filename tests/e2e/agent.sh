#!/bin/sh
# agent.sh: the agent loop end to end. The real binary runs with only its
# built-in self target; we check samples reach SQLite, SIGHUP with a broken
# config keeps the old one running (and says why), a good reload is applied,
# SIGTERM stops cleanly with exit 0 after a final flush, and --for stops by
# itself.
. "$top_srcdir/tests/e2e/lib.sh"

sw_conf "$T/a.conf" <<EOF2
data $T/a.db
EOF2

sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$T/a.conf"
agent=$SW_LAST_PID

rows() { "$SLOPEWATCH" show "$1" --since 1h --csv --db "$T/a.db" 2>/dev/null | tail -n +2 | wc -l; }
has_rows() { [ "$(rows "$1")" -ge "$2" ]; }

sw_check "self rss sample stored" sw_wait_for 10 has_rows slopewatch.rss 1
header=$("$SLOPEWATCH" show slopewatch.rss --csv --db "$T/a.db" | head -n 1)
sw_eq "csv header" "time,value" "$header"
rss=$("$SLOPEWATCH" show slopewatch.rss --csv --db "$T/a.db" | sed -n 2p | cut -d, -f2)
sw_check "self rss is a plausible byte count ($rss)" \
	python3 -c "import sys; v=float('$rss'); sys.exit(0 if 1e5 < v < 1e9 else 1)"

# a broken config on SIGHUP: logged with its location, old config kept
sw_conf "$T/a.conf" <<EOF2
data $T/a.db
endpoint broken { url http://127.0.0.1:1/; every 1x }
EOF2
kill -HUP "$agent"
sw_check "bad reload is reported with file:line:col" \
	sw_wait_for 5 grep -q "a.conf:2:.*keeping\|reload: .*a.conf:2:" "$T/agent.log"
sw_check "bad reload keeps the running config" \
	sw_wait_for 5 grep -q "keeping the running configuration" "$T/agent.log"
sw_check "agent still running after bad reload" kill -0 "$agent"

# a good config on SIGHUP is applied
sw_conf "$T/a.conf" <<EOF2
data $T/a.db
process me { pid $agent; every 200ms }
EOF2
kill -HUP "$agent"
sw_check "good reload applied" sw_wait_for 5 grep -q "reload: .* loaded" "$T/agent.log"

# SIGTERM: clean stop, exit 0, final flush logged
sw_stop "$agent"
sw_eq "SIGTERM exits 0" 0 "$SW_STOP_STATUS"
sw_check "stop logged" grep -q "stopped after" "$T/agent.log"
state=$("$SLOPEWATCH" status --json --db "$T/a.db" 2>/dev/null)
sw_check "status lists the self target" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if any(t.get('target', t.get('name'))=='slopewatch' for t in d['targets']) else 1)" "$state"

# --for stops by itself
start=$(date +%s)
"$SLOPEWATCH" run -c "$T/a.conf" --for 1s >"$T/for.log" 2>&1
rc=$?
sw_eq "--for exits 0" 0 "$rc"
sw_check "--for stopped within 10 s" [ $(( $(date +%s) - start )) -lt 10 ]

# usage errors exit 2
"$SLOPEWATCH" run --for nonsense >"$T/usage.log" 2>&1
sw_eq "bad --for is a usage error" 2 "$?"
"$SLOPEWATCH" frobnicate >"$T/usage2.log" 2>&1
sw_eq "unknown command exits 2" 2 "$?"
"$SLOPEWATCH" --help | grep -q "usage: slopewatch"
sw_eq "--help prints usage" 0 "$?"

sw_finish
