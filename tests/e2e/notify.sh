#!/bin/sh
# notify.sh: end-to-end test of notifications. Starts tests/e2e/receivers.py
# (Slack, PagerDuty, Alertmanager and webhook stand-ins on 127.0.0.1 that
# validate every payload against the service's schema) and drives the real
# notifiers with `slopewatch notify-test`: one test message each (must be
# accepted and valid), failures (400, refused), then the durable outbox
# (`notify-test --outbox`): receiver down then up (all delivered, in
# order), 429 + Retry-After (respected), 400 (permanent, in the outbox
# status), kill -9 after the write and kill -9 between delivery and
# acknowledgement (no loss; a duplicate only in the second case, with the
# same webhook-id), silences, and that no secret appears in any output, log
# or the database. Then, if /usr/bin/prometheus-alertmanager exists, a real
# Alertmanager on a loopback port receives an alert that is read back from
# its API.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

command -v python3 >/dev/null || sw_skip "python3 not found"
[ -x "$SLOPEWATCH" ] || sw_skip "$SLOPEWATCH not built"

RECV="$top_srcdir/tests/e2e/receivers.py"
PDKEY=R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12
HOOKSEC=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SLACKTOK=T0000/B0000/SLACKSECRETTOKEN
HOOKTOK=HOOKSECRETTOKEN

start_recv() {	# [PORT]
	rm -f "$T/recv.port"
	sw_bg "$T/recv.log" "$SW_PY" "$RECV" --port "${1:-0}" \
	    --port-file "$T/recv.port" --webhook-secret "$HOOKSEC" \
	    --pd-key "$PDKEY" --log "$T/recv.jsonl"
	RECV_PID=$SW_LAST_PID
	sw_wait_for 20 test -s "$T/recv.port" || { sw_fail "receivers did not start"; sw_finish; }
	P=$(cat "$T/recv.port")
}
start_recv
R="http://127.0.0.1:$P"
DEAD=$(sw_free_port)
sw_log "receivers on $P"

# requests recorded by the receivers: SERVICE [FIELD-EXPR]
recs() {
	python3 - "$R" "$@" <<'EOF'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen(sys.argv[1] + "/_log"))
svc = sys.argv[2]
expr = sys.argv[3] if len(sys.argv) > 3 else "len(rs)"
rs = [x for x in r if x["service"] == svc]
print(eval(expr))
EOF
}
mode() { python3 -c "import urllib.request as u; u.urlopen(u.Request('$R/_mode?service=$1&modes=$2', data=b''))"; }

CONF="$T/sw.conf"
sw_conf "$CONF" <<EOF
data $T/sw.db
notify ops    slack        { url $R/slack/$SLACKTOK; channel "#ops"; icon ":warning:" }
notify oncall pagerduty    { url $R/pagerduty/v2/enqueue; routing-key $PDKEY }
notify fleet  alertmanager { url $R/am, $R/am/ }
notify hook   webhook      { url "$R/webhook/in?token=$HOOKTOK"; secret $HOOKSEC }
notify dead   slack        { url http://127.0.0.1:$DEAD/slack/$SLACKTOK }
notify quiet  log          { }
endpoint web { url $R/nothing; every 1h }
rule web-leak { when last(web.latency) > 1s; severity warning; notify ops, hook }
EOF

# --- one test message through each notifier --------------------------------
for n in ops oncall fleet hook; do
	"$SLOPEWATCH" notify-test "$n" -c "$CONF" >"$T/nt-$n.out" 2>"$T/nt-$n.err"
	sw_eq "notify-test $n exits 0" 0 $?
done
grep -q 'HTTP 200 in .*: ok' "$T/nt-ops.out" && sw_ok "slack answered 200 ok" || sw_fail "slack: $(cat "$T/nt-ops.out")"
sw_eq "pagerduty got trigger and resolve" "['trigger', 'resolve']" "$(recs pagerduty '[x["body"]["event_action"] for x in rs]')"
sw_eq "pagerduty dedup_key stable" "1" "$(recs pagerduty 'len(set(x["body"]["dedup_key"] for x in rs))')"
sw_eq "alertmanager got one post per URL" 2 "$(recs am)"
sw_eq "webhook signed and valid" 1 "$(recs webhook)"
for s in slack pagerduty am webhook; do
	sw_eq "$s payloads match the schema" "[]" "$(recs $s '[e for x in rs for e in x["errors"]]')"
done
sw_eq "slack fallback text" "True" "$(recs slack 'rs[0]["body"]["text"].startswith("[FIRING] slopewatch-test")')"
sw_eq "slack sparkline" "True" "$(recs slack '"\u2581" in json.dumps(rs[0]["body"], ensure_ascii=False)')"
sw_eq "webhook-id is an idempotency key" "True" "$(recs webhook 'rs[0]["headers"]["webhook-id"].startswith("msg_")')"
"$SLOPEWATCH" notify-test quiet -c "$CONF" >"$T/nt-quiet.out" 2>&1
sw_eq "log notifier: nothing to send, exit 0" 0 $?
"$SLOPEWATCH" notify-test nope -c "$CONF" >"$T/nt-nope.out" 2>&1
sw_eq "unknown notifier: exit 2" 2 $?

# --- failures -------------------------------------------------------------
mode slack 400
"$SLOPEWATCH" notify-test ops -c "$CONF" >"$T/nt-400.out" 2>&1
sw_eq "400: exit 1" 1 $?
grep -q 'HTTP 400.*permanent' "$T/nt-400.out" && sw_ok "400 reported as permanent" || sw_fail "400: $(cat "$T/nt-400.out")"
"$SLOPEWATCH" notify-test dead -c "$CONF" >"$T/nt-dead.out" 2>&1
sw_eq "refused: exit 1" 1 $?
grep -q 'refused' "$T/nt-dead.out" && sw_ok "refused reported" || sw_fail "refused: $(cat "$T/nt-dead.out")"
mode pagerduty echo400
"$SLOPEWATCH" notify-test oncall -c "$CONF" >"$T/nt-echo.out" 2>&1
sw_eq "echoed 400: exit 1" 1 $?

# --- the outbox: receiver down, then up -------------------------------------
OB="--backoff 200ms"
kill -TERM "$RECV_PID"; wait "$RECV_PID" 2>/dev/null
"$SLOPEWATCH" notify-test hook -c "$CONF" --outbox --count 3 $OB --timeout 1s >"$T/ob-down.out" 2>&1
sw_eq "receiver down: messages wait (exit 1)" 1 $?
grep -q '0 delivered, 0 failed, 3 waiting' "$T/ob-down.out" && sw_ok "3 messages waiting" || sw_fail "down: $(cat "$T/ob-down.out")"
"$SLOPEWATCH" notify-test --status -c "$CONF" >"$T/status-down.out" 2>&1
grep -q 'hook .*retrying 1 (next attempt .*last error: refused' "$T/status-down.out" && sw_ok "status: retrying with next attempt and error" || sw_fail "status: $(cat "$T/status-down.out")"
start_recv "$P"
"$SLOPEWATCH" notify-test hook -c "$CONF" --deliver-only $OB --timeout 15s >"$T/ob-up.out" 2>&1
sw_eq "receiver up: all delivered (exit 0)" 0 $?
sw_eq "delivered in order" "['1 of 3', '2 of 3', '3 of 3']" "$(recs webhook '[x["body"]["slopewatch"]["alerts"][0]["summary"][-6:] for x in rs]')"
sw_eq "valid and signed after retries" "[]" "$(recs webhook '[e for x in rs for e in x["errors"]]')"

# --- 429 with Retry-After ---------------------------------------------------
mode slack "429:1"
"$SLOPEWATCH" notify-test ops -c "$CONF" --outbox --backoff 100ms --timeout 15s >"$T/ob-429.out" 2>&1
sw_eq "429: delivered after the wait" 0 $?
sw_eq "Retry-After respected (>= 0.95 s between tries, backoff is 0.1 s)" "True" "$(recs slack '[x["t"] for x in rs if x["mode"] in ("429:1", "ok")][-1] - [x["t"] for x in rs if x["mode"] == "429:1"][-1] >= 0.95')"

# --- 400: permanent, shown in the status --------------------------------------
mode webhook 400
"$SLOPEWATCH" notify-test hook -c "$CONF" --outbox $OB --timeout 5s >"$T/ob-400.out" 2>&1
sw_eq "400 through the outbox: exit 1" 1 $?
"$SLOPEWATCH" notify-test --status -c "$CONF" >"$T/status-400.out" 2>&1
grep -q 'hook .*failed 1 (last: HTTP 400' "$T/status-400.out" && sw_ok "status shows the permanent failure" || sw_fail "status: $(cat "$T/status-400.out")"

# --- kill -9 after the write, before delivery: no loss ---------------------
n0=$(recs webhook)
sw_bg "$T/ob-k1.log" "$SLOPEWATCH" notify-test hook -c "$CONF" --outbox --group-wait 1s --timeout 30s
K=$SW_LAST_PID
sw_wait_for 10 grep -q 'queued 1 message' "$T/ob-k1.log" || sw_fail "nothing queued: $(cat "$T/ob-k1.log")"
kill -KILL "$K"; wait "$K" 2>/dev/null
sw_eq "killed before delivery: nothing sent yet" "$n0" "$(recs webhook)"
"$SLOPEWATCH" notify-test hook -c "$CONF" --deliver-only $OB --timeout 10s >"$T/ob-k1b.out" 2>&1
sw_eq "after kill -9: delivered (exit 0)" 0 $?
sw_eq "after kill -9: the message is delivered once" "$((n0 + 1))" "$(recs webhook)"

# --- kill -9 between delivery and acknowledgement: one duplicate, same id ---
mode webhook "slow:4000"
n0=$(recs webhook)
sw_bg "$T/ob-k2.log" "$SLOPEWATCH" notify-test hook -c "$CONF" --outbox $OB --timeout 30s
K=$SW_LAST_PID
recs_gt() { [ "$(recs "$1")" -gt "$2" ]; }
sw_wait_for 10 recs_gt webhook "$n0" || sw_fail "the slow request never arrived"
kill -KILL "$K"; wait "$K" 2>/dev/null
"$SLOPEWATCH" notify-test hook -c "$CONF" --deliver-only $OB --timeout 10s >"$T/ob-k2b.out" 2>&1
sw_eq "after kill -9 before the ack: delivered" 0 $?
sw_eq "exactly one duplicate" "$((n0 + 2))" "$(recs webhook)"
sw_eq "the duplicate has the same webhook-id" "True" "$(recs webhook 'rs[-1]["headers"]["webhook-id"] == rs[-2]["headers"]["webhook-id"]')"
"$SLOPEWATCH" notify-test hook -c "$CONF" --deliver-only $OB --timeout 2s >"$T/ob-k2c.out" 2>&1
sw_eq "never re-sent after its success was recorded" "$((n0 + 2))" "$(recs webhook)"

# --- silences -------------------------------------------------------------
"$SLOPEWATCH" silence add 'example-*' --for 2h --reason "e2e test" -c "$CONF" >"$T/sil-add.out" 2>&1
sw_eq "silence add" 0 $?
"$SLOPEWATCH" silence list -c "$CONF" >"$T/sil-list.out" 2>&1
grep -q 'example-\*.*e2e test' "$T/sil-list.out" && sw_ok "silence listed" || sw_fail "list: $(cat "$T/sil-list.out")"
n0=$(recs webhook)
"$SLOPEWATCH" notify-test hook -c "$CONF" --outbox $OB --timeout 2s >"$T/sil-nt.out" 2>&1
grep -q 'nothing queued' "$T/sil-nt.out" && sw_ok "silenced: nothing queued" || sw_fail "silence: $(cat "$T/sil-nt.out")"
sw_eq "silenced: nothing sent" "$n0" "$(recs webhook)"
id=$(sed -n 's/^silence \([0-9]*\) added.*/\1/p' "$T/sil-add.out")
"$SLOPEWATCH" silence rm "$id" -c "$CONF" >"$T/sil-rm.out" 2>&1
sw_eq "silence rm" 0 $?
"$SLOPEWATCH" silence list --json -c "$CONF" >"$T/sil-list2.out" 2>&1
sw_eq "no silence left" "[]" "$(tr -d ' \n' <"$T/sil-list2.out")"

# --- secrets never show -----------------------------------------------------
"$SLOPEWATCH" check -c "$CONF" >"$T/check.out" 2>&1
leaks=$(grep -l -e "SLACKSECRETTOKEN" -e "$PDKEY" -e "$HOOKTOK" -e "MfKQ9r8GKYqr" \
    "$T"/*.out "$T"/ob-*.log 2>/dev/null)
sw_eq "no secret in any output" "" "$leaks"
if grep -a -q -e "SLACKSECRETTOKEN" -e "$PDKEY" -e "$HOOKTOK" -e "MfKQ9r8GKYqr" "$T"/sw.db*; then
	sw_fail "a secret is in the database"
else
	sw_ok "no secret in the database"
fi

# --- a real Alertmanager --------------------------------------------------
AM=/usr/bin/prometheus-alertmanager
if [ -x "$AM" ]; then
	AP=$(sw_free_port)
	mkdir -p "$T/am"
	cat >"$T/am.yml" <<EOF
route: { receiver: blackhole }
receivers: [ { name: blackhole } ]
EOF
	sw_bg "$T/alertmanager.out" "$AM" --config.file="$T/am.yml" \
	    --web.listen-address=127.0.0.1:$AP --cluster.listen-address= \
	    --storage.path="$T/am"
	if sw_wait_for 20 python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$AP/-/ready')"; then
		sw_conf "$T/am.conf" <<EOF
data $T/am.db
notify real alertmanager { url http://127.0.0.1:$AP }
EOF
		"$SLOPEWATCH" notify-test real -c "$T/am.conf" >"$T/am-nt.out" 2>&1
		sw_eq "real Alertmanager accepted the alert" 0 $?
		got=$(python3 - "$AP" <<'EOF'
import json, sys, urllib.request
a = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/v2/alerts" % sys.argv[1]))
x = [y for y in a if y["labels"].get("alertname") == "slopewatch-test"]
print(len(x), x[0]["labels"].get("severity") if x else "", bool(x and x[0]["labels"].get("instance")), x[0]["status"]["state"] if x else "", bool(x and "RSS" in x[0]["annotations"].get("trend", "")))
EOF
)
		sw_eq "alert read back from Alertmanager's API" "1 info True active True" "$got"
		"$SLOPEWATCH" notify-test real -c "$T/am.conf" --outbox --timeout 10s >"$T/am-ob.out" 2>&1
		sw_eq "through the outbox too" 0 $?
	else
		sw_fail "alertmanager did not become ready: $(tail -3 "$T/alertmanager.out")"
	fi
else
	sw_log "SKIP real Alertmanager: $AM not installed (Debian package prometheus-alertmanager)"
fi

sw_finish
