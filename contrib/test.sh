#!/bin/sh
# contrib/test.sh: the README's test command. Builds slopewatch in ./build
# and runs the whole test suite (make check: unit, end-to-end, lint), then
# prints "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 2
sh contrib/build.sh || exit 2
cd build || exit 2
make -s -j"$(nproc)" check
rc=$?
sh ../tests/summarize.sh .
exit $rc
