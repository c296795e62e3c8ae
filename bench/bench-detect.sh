#!/bin/sh
# bench-detect.sh (`make bench`): generates the labelled corpus
# (tests/corpus/gen-corpus.py, 3 traces per class, deterministic) into a
# temp dir and prints bench/bench-detect's table: recall, false alarms and
# median detection delay per class for the example rules, side by side
# with a plain least-squares predict_linear rule. Figures, no assertions.
# BENCH_DETECT_STEP (default 1m) is the evaluation interval of the replay
# (the agent's is 10s: slower to replay, the same verdicts up to for/keep
# granularity).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3; else py=python3; fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/sw-bench-detect.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM
"$py" "$top_srcdir/tests/corpus/gen-corpus.py" --out "$dir" --per-class 3 ||
    exit 1
"$top_builddir/bench/bench-detect" --step "${BENCH_DETECT_STEP:-1m}" \
    "$dir" "$top_srcdir/rules"
