# tests/e2e/lib.sh: shared helpers for end-to-end tests. Source it first:
#   . "$top_srcdir/tests/e2e/lib.sh"
# Each test gets a fresh temp dir ($T, removed on exit), every process it
# starts through sw_bg is killed on exit, and sw_finish fails the test when a
# sanitizer reported anything in the logs it collected.
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip.

set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${SLOPEWATCH:=$top_builddir/agent/slopewatch}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-exitcode=88}"

# The real interpreter, not a version-manager shim (which costs seconds a
# start); tests call python3 as usual and get this one.
if [ -x /usr/bin/python3 ]; then SW_PY=/usr/bin/python3; else SW_PY=$(command -v python3); fi
python3() { "$SW_PY" "$@"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/sw-e2e.XXXXXX")
SW_PIDS=""
SW_FAILS=0
SW_CHECKS=0

sw_cleanup() {
	for p in $SW_PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $SW_PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
	done
	if [ "${SW_KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap sw_cleanup EXIT
trap 'exit 1' INT TERM

# sw_skip MESSAGE: skip the whole test.
sw_skip() { echo "SKIP: $*"; exit 77; }

# sw_log MESSAGE
sw_log() { echo "# $*"; }

# sw_ok COND-DESCRIPTION: record a passing check; sw_fail: a failing one.
sw_ok() { SW_CHECKS=$((SW_CHECKS + 1)); echo "ok - $*"; }
sw_fail() { SW_CHECKS=$((SW_CHECKS + 1)); SW_FAILS=$((SW_FAILS + 1)); echo "not ok - $*"; }

# sw_check DESCRIPTION COMMAND...: run a command, pass if it exits 0.
sw_check() {
	desc=$1; shift
	if "$@"; then sw_ok "$desc"; else sw_fail "$desc"; fi
}

# sw_eq DESCRIPTION EXPECTED ACTUAL
sw_eq() {
	if [ "$2" = "$3" ]; then sw_ok "$1"; else sw_fail "$1 (expected '$2', got '$3')"; fi
}

# sw_bg LOGFILE COMMAND...: start a process in the background, remember its
# pid in $SW_LAST_PID; it is killed at exit.
sw_bg() {
	log=$1; shift
	"$@" >"$log" 2>&1 &
	SW_LAST_PID=$!
	SW_PIDS="$SW_PIDS $SW_LAST_PID"
}

# sw_wait_for TIMEOUT_S COMMAND...: poll (every 0.1 s) until COMMAND succeeds;
# returns 1 on timeout.
sw_wait_for() {
	limit=$(( $1 * 10 )); shift
	i=0
	while [ $i -lt $limit ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# sw_free_port: print a free TCP port on 127.0.0.1.
sw_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# sw_stop PID: SIGTERM and wait for exit; the exit status is left in
# $SW_STOP_STATUS (call it directly, not in $(...): a subshell cannot wait).
sw_stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	SW_STOP_STATUS=$?
}

# sw_sanitizer_clean FILE...: true when no sanitizer/valgrind report is in
# the files.
sw_sanitizer_clean() {
	! grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$@" 2>/dev/null | grep -q .
}

# sw_conf FILE: write a config from stdin with safe permissions (0600).
sw_conf() { cat >"$1"; chmod 600 "$1"; }

# sw_finish [LOGFILES...]: check sanitizer reports in the given logs (plus
# every *.log in $T), print the tally, exit with the result.
sw_finish() {
	if ! sw_sanitizer_clean "$@" "$T"/*.log; then
		grep -hE -A20 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$@" "$T"/*.log 2>/dev/null | head -60
		sw_fail "sanitizer report in logs"
	fi
	echo "# $SW_CHECKS checks, $SW_FAILS failed"
	[ "$SW_FAILS" -eq 0 ] && [ "$SW_CHECKS" -gt 0 ]
	exit $?
}
