#!/bin/sh
# Browser test of flowsift-console: starts the pipeline as `make demo` does
# (scripts/run.sh --demo: generated traffic exported by softflowd) in a
# private run folder, with its own redis-server and free loopback ports, then
# drives Debian's Chromium with tests/browser/console.mjs and stops
# everything.  Screenshots go to BUILD_DIR/browser/.
#   tests/browser/run.sh [BUILD_DIR]      (default build)
# Exits 1 when a check fails or the pipeline does not start.
set -u
cd "$(dirname "$0")/../.."
build=${1:-build}
chromium=${CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
	echo "browser test: $chromium not found; install it with scripts/deps.sh" >&2
	exit 1
fi
if [ ! -d web/node_modules/playwright-core ]; then
	echo "browser test: web/node_modules is missing; build the console first (make)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/flowsift-browser.XXXXXX)
run_pid=""
redis_pid=""
cleanup() {
	if [ -n "$run_pid" ]; then
		kill -TERM "$run_pid" 2>/dev/null
		wait "$run_pid" 2>/dev/null
	fi
	if [ -n "$redis_pid" ]; then
		kill -TERM "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Prints n loopback ports that are free for both TCP and UDP right now.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    held += [t, u]
    ports.append(port)
print(" ".join(map(str, ports)))
PY
}

set -- $(free_ports 5)
redis_port=$1
mkdir -p "$work/redis" "$work/run"
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
	--dir "$work/redis" --logfile "$work/redis.log" &
redis_pid=$!
i=0
until redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "browser test: redis-server did not start; see $work/redis.log" >&2
		exit 1
	fi
	sleep 0.1
done

FLOWSIFT_RUN_DIR=$work/run
FLOWSIFT_REDIS_URL=redis://127.0.0.1:$redis_port
FLOWSIFT_INGEST_LISTEN=127.0.0.1:$2
FLOWSIFT_INGEST_LISTEN_TCP=127.0.0.1:$3
FLOWSIFT_CONSOLE_LISTEN=127.0.0.1:$4
# Alerts go to a UDP syslog port that no process reads, so run.sh starts no
# rsyslogd on its fixed demo port.
FLOWSIFT_ALERT_SYSLOG_TARGET=udp://127.0.0.1:$5
FLOWSIFT_INGEST_METRICS_LISTEN=127.0.0.1:0
FLOWSIFT_ENRICH_METRICS_LISTEN=127.0.0.1:0
FLOWSIFT_FILTER_METRICS_LISTEN=127.0.0.1:0
FLOWSIFT_REPORT_METRICS_LISTEN=127.0.0.1:0
export FLOWSIFT_RUN_DIR FLOWSIFT_REDIS_URL FLOWSIFT_INGEST_LISTEN FLOWSIFT_INGEST_LISTEN_TCP \
	FLOWSIFT_CONSOLE_LISTEN FLOWSIFT_ALERT_SYSLOG_TARGET FLOWSIFT_INGEST_METRICS_LISTEN \
	FLOWSIFT_ENRICH_METRICS_LISTEN FLOWSIFT_FILTER_METRICS_LISTEN FLOWSIFT_REPORT_METRICS_LISTEN

scripts/run.sh --demo >"$work/run.out" 2>&1 &
run_pid=$!
# The demo is ready once run.sh starts its live view (after the alerts).
i=0
until grep -q "press Ctrl-C to stop" "$work/run.out"; do
	i=$((i + 1))
	if [ $i -gt 1200 ] || ! kill -0 "$run_pid" 2>/dev/null; then
		echo "browser test: the demo pipeline did not start; its output:" >&2
		cat "$work/run.out" >&2
		tail -n 20 "$work"/run/logs/*.log >&2
		exit 1
	fi
	sleep 0.1
done

url="http://127.0.0.1:$4/"
echo "browser test: console at $url, screenshots in $build/browser/"
CHROMIUM=$chromium timeout 180 node tests/browser/console.mjs "$url" "$build/browser"
status=$?
if [ $status -ne 0 ]; then
	echo "browser test: failed; console log:" >&2
	tail -n 20 "$work/run/logs/console.log" >&2
fi
exit $status
