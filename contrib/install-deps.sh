#!/bin/sh
# install-deps.sh: install the Debian 12 packages slopewatch builds and tests with.
# Runs as root (apt-get update first). Safe to run again.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get needs it)" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libcurl4-openssl-dev libjansson-dev libsqlite3-dev sqlite3 libssl-dev \
	libcmocka-dev valgrind clang libclang-rt-dev \
	openssl ca-certificates curl python3 procps \
	prometheus-alertmanager
