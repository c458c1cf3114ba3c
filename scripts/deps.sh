#!/bin/sh
# Installs the Debian 12 packages flowsift needs to build, test and run,
# when any of them is missing.  Runs apt-get as root, or through sudo.
set -eu

PACKAGES="build-essential pkg-config clang cppcheck
librdkafka-dev libavro-dev libhiredis-dev libcmocka-dev libpcap-dev libjansson-dev
redis-server softflowd python3-avro tcpdump rsyslog nfdump
libmaxminddb-dev libsnmp-dev snmpd snmp libmaxmind-db-writer-perl
libmicrohttpd-dev docker-compose python3-yaml
pmacct linux-perf valgrind lz4 zstd
chromium chromium-driver
libcairo2-dev fonts-dejavu-core"

missing=""
for pkg in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $pkg"
	fi
done
# The web console's page is built with node (web/), and its browser test
# drives chromium through node; a machine with its own node keeps it.
if ! command -v node >/dev/null 2>&1; then
	missing="$missing nodejs npm"
fi
# The Kubernetes schemas for scripts/check-deploy.sh come from npm; only the
# tests need them, so `make run` and `make demo` pass DEPS_VALIDATOR=0.
if [ "${DEPS_VALIDATOR:-1}" = 1 ]; then
	"$(dirname "$0")/deps-npm.sh"
fi
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: not root and no sudo; install these packages first:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (a second make, the system's own updates) may hold the dpkg
# lock: wait for it instead of failing.
lock_wait="-o DPkg::Lock::Timeout=900"
# shellcheck disable=SC2086
$SUDO apt-get $lock_wait update -qq
# shellcheck disable=SC2086
$SUDO apt-get $lock_wait install -y -qq --no-install-recommends $missing
# Debian starts the packaged redis-server, softflowd, snmpd, nfdump and pmacct
# services on install (rsyslog is left alone: it is the system logger);
# flowsift runs its own instances, so the packaged ones are stopped when a
# service manager exists to stop them.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	for service in redis-server softflowd snmpd nfdump pmacct; do
		# Only services this run installed: one the machine already had stays as it was.
		case " $missing " in
		*" $service "*) $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true ;;
		esac
	done
fi
echo "deps: done"
