#!/bin/sh
# contrib/build.sh [CONFIGURE-ARGS]: builds slopewatch in ./build (out of
# tree; the source tree stays clean). Run contrib/install-deps.sh first.
set -u
cd "$(dirname "$0")/.." || exit 2
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || {
		echo "build.sh: autoreconf failed (run contrib/install-deps.sh as root first)" >&2
		exit 2
	}
fi
mkdir -p build
cd build || exit 2
if [ ! -f Makefile ] || [ $# -gt 0 ]; then
	../configure -q "$@" || exit 2
fi
make -s -j"$(nproc)" >/dev/null 2>make.err || { cat make.err; exit 2; }
