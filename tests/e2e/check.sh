#!/bin/sh
# tests/e2e/check.sh: `slopewatch check` with the real binary.
#  - every tests/fixtures/conf/bad-*.conf: stderr is exactly
#    FIXTUREPATH:LINE:COL: message for each line of bad-*.expected, then
#    "N error(s)", stdout is empty, and the exit status is 2;
#  - a good config exits 0, prints a summary and "FILE: ok";
#  - a secret from the environment or a file appears nowhere in the output;
#  - a world-writable file with an action is refused;
#  - -q, --help, a missing file and a bad option.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

[ -x "$SLOPEWATCH" ] || sw_skip "no binary at $SLOPEWATCH"
FIX="$top_srcdir/tests/fixtures/conf"
unset SLOPEWATCH_TEST_UNSET_VARIABLE SLOPEWATCH_CONF

# Each fixture is checked from a private 0600 copy so that the checkout's
# umask cannot add a permission error; the copy's path is FIXTUREPATH.
mkdir "$T/fix"
for f in "$FIX"/bad-*.conf; do
	name=$(basename "$f" .conf)
	copy="$T/fix/$name.conf"
	cp "$f" "$copy"
	chmod 600 "$copy"
	"$SLOPEWATCH" check -c "$copy" >"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	sw_eq "$name: exit status" 2 "$rc"
	sed "s|^|$copy:|" "$FIX/$name.expected" >"$T/$name.want"
	n=$(wc -l <"$T/$name.want")
	if [ "$n" -eq 1 ]; then echo "1 error"; else echo "$n errors"; fi >>"$T/$name.want"
	if cmp -s "$T/$name.want" "$T/$name.err"; then
		sw_ok "$name: messages"
	else
		sw_fail "$name: messages"
		diff "$T/$name.want" "$T/$name.err" | sed 's/^/#   /'
	fi
	sw_eq "$name: nothing on stdout" "" "$(cat "$T/$name.out")"
done

# A good configuration, with secrets from the environment and a file.
SECRET_ENV="env-secret-$$-Zq9"
SECRET_FILE="file-secret-$$-Wx4"
printf '%s\n' "$SECRET_FILE" >"$T/pd.key"
chmod 600 "$T/pd.key"
sw_conf "$T/good.conf" <<EOF
data $T/sw.db
listen 127.0.0.1:0
endpoint api { url http://127.0.0.1:1/health; every 1s; timeout 500ms }
process self { pid $$; limit 1GiB }
notify ops slack { url \$SW_E2E_HOOK }
notify pd pagerduty { routing-key @pd.key }
action restart { run /bin/true; limit 3 per 6h }
rule slow { when p50(api.latency, 1m) > 1s; for 1m; notify ops, pd; action restart }
EOF
SW_E2E_HOOK="https://hooks.slack.com/services/$SECRET_ENV" \
	"$SLOPEWATCH" check -c "$T/good.conf" >"$T/good.out" 2>"$T/good.err"
rc=$?
sw_eq "good config: exit status" 0 "$rc"
sw_check "good config: FILE: ok" grep -qx "$T/good.conf: ok" "$T/good.out"
sw_check "good config: summary lists the rule" \
	grep -q 'when p50(api.latency, 1m) > 1s' "$T/good.out"
sw_check "good config: summary names the secret's source" \
	grep -q 'url \$SW_E2E_HOOK' "$T/good.out"
sw_eq "good config: nothing on stderr" "" "$(cat "$T/good.err")"
if grep -q -e "$SECRET_ENV" -e "$SECRET_FILE" "$T/good.out" "$T/good.err"; then
	sw_fail "secrets appear in check's output"
else
	sw_ok "secrets never appear in check's output"
fi

# The SPEC example: the only error allowed is the missing PagerDuty key.
cp "$FIX/spec-example.conf" "$T/spec.conf"
chmod 600 "$T/spec.conf"
SLACK_WEBHOOK_URL="https://hooks.slack.com/services/$SECRET_ENV" \
	"$SLOPEWATCH" check -c "$T/spec.conf" >"$T/spec.out" 2>"$T/spec.err"
rc=$?
if [ -r /etc/slopewatch/pd.key ]; then
	sw_eq "spec example: exit status" 0 "$rc"
else
	sw_eq "spec example: exit status" 2 "$rc"
	sw_eq "spec example: only the key file is missing" \
	    "$T/spec.conf:11:42: cannot read secret file \"/etc/slopewatch/pd.key\": No such file or directory
1 error" "$(cat "$T/spec.err")"
fi
if grep -q "$SECRET_ENV" "$T/spec.out" "$T/spec.err"; then
	sw_fail "spec example: secret in output"
else
	sw_ok "spec example: no secret in output"
fi

# -q prints nothing on success.
SW_E2E_HOOK=x "$SLOPEWATCH" check -q -c "$T/good.conf" >"$T/q.out" 2>&1
rc=$?
sw_eq "-q: exit status" 0 "$rc"
sw_eq "-q: silent" "" "$(cat "$T/q.out")"

# The config path from $SLOPEWATCH_CONF.
SLOPEWATCH_CONF="$T/good.conf" SW_E2E_HOOK=x "$SLOPEWATCH" check -q >/dev/null 2>&1
sw_eq "\$SLOPEWATCH_CONF is used" 0 "$?"

# Permissions: actions in a world-writable file are refused.
sw_conf "$T/loose.conf" <<EOF
action restart { run /bin/true }
EOF
chmod 666 "$T/loose.conf"
"$SLOPEWATCH" check -c "$T/loose.conf" >/dev/null 2>"$T/loose.err"
rc=$?
sw_eq "loose permissions: exit status" 2 "$rc"
sw_eq "loose permissions: message" \
    "$T/loose.conf: holds actions or secrets but is writable by group/others; run chmod go-w $T/loose.conf
1 error" "$(cat "$T/loose.err")"

# A missing file, --help, a bad option.
"$SLOPEWATCH" check -c "$T/none.conf" >/dev/null 2>"$T/none.err"
sw_eq "missing file: exit status" 2 "$?"
sw_check "missing file: message" grep -q "^$T/none.conf: cannot read the configuration: No such file or directory" "$T/none.err"
"$SLOPEWATCH" check --help >"$T/help.out" 2>&1
sw_eq "--help: exit status" 0 "$?"
sw_check "--help: usage" grep -q "usage: slopewatch check" "$T/help.out"
"$SLOPEWATCH" check --bogus >/dev/null 2>&1
sw_eq "bad option: exit status" 2 "$?"

# rule conditions are checked too: units and series, at their location
cp "$top_srcdir/tests/fixtures/rules/units-mismatch.conf" "$T/units.conf"
chmod 600 "$T/units.conf"
"$SLOPEWATCH" check -c "$T/units.conf" >"$T/units.out" 2>"$T/units.err"
sw_eq "rule unit mismatch exits 2" 2 "$?"
sw_check "bytes vs seconds reported at 4:47" \
	grep -q "^$T/units.conf:4:47: cannot compare bytes (p50(web.rss, 5m)) with seconds (2s)" "$T/units.err"
sw_check "unknown metric reported at line 6" grep -q "^$T/units.conf:6:[0-9]*: .*latancy" "$T/units.err"
sw_check "sound rule is not reported" sh -c "! grep -q ':5:' '$T/units.err'"

# insecure yes is allowed but warned about, at the block
cat >"$T/insecure.conf" <<EOF2
endpoint tls { url https://127.0.0.1:9/; insecure yes }
EOF2
chmod 600 "$T/insecure.conf"
"$SLOPEWATCH" check -c "$T/insecure.conf" >"$T/insecure.out" 2>"$T/insecure.warn"
sw_eq "insecure yes still passes check" 0 "$?"
sw_check "insecure yes is warned about at its block" \
	grep -q "^$T/insecure.conf:1:10: warning: endpoint tls: TLS certificate verification is disabled" "$T/insecure.warn"

# an action whose program is not executable here is refused at its place
cat >"$T/act.conf" <<EOF2
action fix {
	run /nonexistent/restart-web now
}
EOF2
chmod 600 "$T/act.conf"
"$SLOPEWATCH" check -c "$T/act.conf" >"$T/act.out" 2>"$T/act.err"
sw_eq "missing action program exits 2" 2 "$?"
sw_check "missing action program reported at 2:6" \
	grep -q "^$T/act.conf:2:6: .*/nonexistent/restart-web" "$T/act.err"
chmod 666 "$T/act.conf"
"$SLOPEWATCH" check -c "$T/act.conf" >"$T/act2.out" 2>"$T/act2.err"
sw_check "a config with actions writable by others is refused" \
	grep -q "writable by group/others" "$T/act2.err"

sw_finish "$T"/*.err
