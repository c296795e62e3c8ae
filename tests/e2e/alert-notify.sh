#!/bin/sh
# alert-notify.sh: alerts reach receivers from the real agent. A leaking
# child trips a rule; the agent writes the alert state and its outbox rows
# in one transaction and delivers them to local receivers that validate
# each payload's schema (tests/e2e/receivers.py). Checks:
#  - firing reaches Slack and the webhook, with the rule and a sparkline;
#  - a slow receiver (3 s per request) does not delay probes;
#  - receiver down, then kill -9 of the agent with the message still in the
#    outbox: after a restart, with the receiver back, it is delivered once,
#    with the same idempotency key it had before;
#  - status shows the outbox, and no secret appears in any output.
. "$top_srcdir/tests/e2e/lib.sh"

LEAKER="$top_builddir/tests/helpers/leaker"
RECV="$top_srcdir/tests/e2e/receivers.py"
[ -x "$LEAKER" ] || sw_skip "no $LEAKER"
[ -x "$SLOPEWATCH" ] || sw_skip "no $SLOPEWATCH"
SLACKTOK=T0000/B0000/AGENTSECRETTOKEN
HOOKSEC=whsec_AgentTestSecretAgentTestSecret00

start_recv() {	# PORT (0: any)
	rm -f "$T/recv.port"
	sw_bg "$T/recv-$1.log" "$SW_PY" "$RECV" --port "$1" \
	    --port-file "$T/recv.port" --webhook-secret "$HOOKSEC"
	RECV_PID=$SW_LAST_PID
	sw_wait_for 20 test -s "$T/recv.port" || { sw_fail "receivers start"; sw_finish; }
	P=$(cat "$T/recv.port")
}
recs() {	# SERVICE [EXPR over rs]
	python3 - "http://127.0.0.1:$P" "$@" <<'PY'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen(sys.argv[1] + "/_log"))
rs = [x for x in r if x["service"] == sys.argv[2]]
print(eval(sys.argv[3] if len(sys.argv) > 3 else "len(rs)"))
PY
}
mode() { python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$P/_mode?service=$1&modes=$2', data=b''))"; }

start_recv 0
sw_conf "$T/sw.conf" <<CONF
data $T/sw.db
process leak { pidfile $T/leak.pid; every 250ms }
notify ops  slack   { url http://127.0.0.1:$P/slack/$SLACKTOK }
notify hook webhook { url http://127.0.0.1:$P/webhook/in; secret $HOOKSEC }
rule big { when max(leak.rss, 15s) > 40MB; severity critical; notify ops, hook }
CONF

sw_bg "$T/leaker.log" "$LEAKER" --rate 20000000 --duration 4 --pidfile "$T/leak.pid"
leaker=$SW_LAST_PID
sw_wait_for 5 test -s "$T/leak.pid" || { sw_fail "leaker started"; sw_finish; }
# the Slack receiver answers slowly: probes must keep their 250 ms pace.
# Rules are evaluated every 25 s so that the first firing has a few
# 10-second buckets behind it for the sparkline.
mode slack slow:3000
sw_bg "$T/agent.log" "$SLOPEWATCH" run -c "$T/sw.conf" --eval-every 25s
agent=$SW_LAST_PID

got() { [ "$(recs "$1")" -ge 1 ]; }
sw_check "firing reaches the webhook receiver" sw_wait_for 45 got webhook
sw_check "firing reaches the Slack receiver (slowly)" sw_wait_for 30 got slack
sw_eq "webhook payload valid for its schema" "[]" "$(recs webhook 'rs[0]["errors"]')"
sw_eq "slack payload valid for its schema" "[]" "$(recs slack 'rs[0]["errors"]')"
sw_eq "webhook says firing for rule big" "firing big" \
	"$(recs webhook '(lambda b: b["status"] + " " + b["alerts"][0]["labels"]["alertname"])(rs[0]["body"])')"
recs slack 'json.dumps(rs[0]["body"], ensure_ascii=False)' | grep -q '[▁▂▃▄▅▆▇█]' &&
	sw_ok "slack message carries a sparkline" || sw_fail "slack message carries a sparkline"

# probes kept their schedule while Slack took 3 s: no gap over 1.5 s in
# the rss samples up to now (the slow delivery has happened by now)
"$SLOPEWATCH" show leak.rss --since 5m --csv -c "$T/sw.conf" >"$T/rss.csv"
if python3 - "$T/rss.csv" <<'PY'
import sys
rows = [int(l.split(",")[0]) for l in open(sys.argv[1]).read().split()[1:]]
gaps = [b - a for a, b in zip(rows, rows[1:])]
sys.exit(0 if len(rows) > 80 and max(gaps) < 1500 else 1)
PY
then sw_ok "probes kept their pace behind a slow receiver"
else sw_fail "probes kept their pace behind a slow receiver"
fi

# receiver down; the leak has stopped, so the alert resolves and the
# resolved message waits in the outbox; kill -9 the agent, bring the
# receiver back on the same port, restart: delivered once, same key
kill "$RECV_PID"; wait "$RECV_PID" 2>/dev/null
kill "$leaker"; wait "$leaker" 2>/dev/null	# no more data: the rule clears
if command -v sqlite3 >/dev/null 2>&1; then
	resolved_queued() {
		n=$(sqlite3 "$T/sw.db" "SELECT count(*) FROM outbox WHERE event = 'resolved' AND notifier = 'hook'" 2>/dev/null)
		[ "${n:-0}" -ge 1 ]
	}
	sw_check "resolved message waits in the outbox" sw_wait_for 60 resolved_queued
	key=$(sqlite3 "$T/sw.db" "SELECT msg_key FROM outbox WHERE event = 'resolved' AND notifier = 'hook' LIMIT 1")
	kill -9 "$agent"; wait "$agent" 2>/dev/null
	start_recv "$P"
	sw_bg "$T/agent2.log" "$SLOPEWATCH" run -c "$T/sw.conf"
	agent=$SW_LAST_PID
	nres() { recs webhook 'sum(1 for r in rs if r["body"]["status"] == "resolved")'; }
	resolved_sent() { [ "$(nres)" -ge 1 ]; }
	sw_check "after kill -9 and restart the resolved message is delivered" sw_wait_for 30 resolved_sent
	sw_eq "delivered once" 1 "$(nres)"
	sw_eq "same idempotency key as before the crash" "$key" \
		"$(recs webhook '[r["headers"].get("webhook-id") for r in rs if r["body"]["status"] == "resolved"][0]')"
else
	sw_log "sqlite3 CLI missing: crash part skipped"
fi

"$SLOPEWATCH" status -c "$T/sw.conf" >"$T/status.txt" 2>&1
grep -q '^notifications:' "$T/status.txt" && sw_ok "status shows the outbox" ||
	{ sw_fail "status shows the outbox"; cat "$T/status.txt"; }
"$SLOPEWATCH" status --json -c "$T/sw.conf" >"$T/status.json"
python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert {x["notifier"] for x in o["outbox"]} >= {"ops","hook"}, o["outbox"]' "$T/status.json" &&
	sw_ok "status --json has the outbox" || sw_fail "status --json has the outbox"
sw_stop "$agent"
sw_eq "agent exits 0" 0 "$SW_STOP_STATUS"

if grep -l -e "$SLACKTOK" -e "$HOOKSEC" "$T"/agent*.log "$T"/status.* >/dev/null 2>&1; then
	sw_fail "no secret in logs or status"
else
	sw_ok "no secret in logs or status"
fi
sw_finish "$T/agent.log"
