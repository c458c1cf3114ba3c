#!/bin/sh
# `make run`: starts the whole pipeline on this machine and shows the live
# top-talkers view.  Ctrl-C stops every process it started.
#
#   scripts/run.sh          pipeline + `flowsift top --watch`
#   scripts/run.sh --demo   the same, plus generated traffic exported by softflowd
#
# State lives under run.dir (default run/): the embedded broker's address,
# the Redis URL and socket, and one log file per process in run/logs/.
set -eu
cd "$(dirname "$0")/.."

bin=build/bin
demo=0
[ "${1:-}" = "--demo" ] && demo=1

# Fails early, with the key's name, on a broken configuration.
"$bin/flowsift" config check

run_dir=$("$bin/flowsift" config get run.dir)
bootstrap=$("$bin/flowsift" config get kafka.bootstrap.servers)
redis_url=$("$bin/flowsift" config get redis.url)
mkdir -p "$run_dir/logs"

pids=""
cleanup() {
	trap - INT TERM EXIT
	echo
	echo "run: stopping"
	# Stops in reverse start order, so report writes its last counters to
	# Redis and commits its offsets before Redis and the broker go away.
	reversed=""
	for pid in $pids; do
		reversed="$pid $reversed"
	done
	for pid in $reversed; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "run: stopped; logs are in $run_dir/logs/"
}
trap cleanup INT TERM EXIT

start() {
	name=$1
	shift
	"$@" >>"$run_dir/logs/$name.log" 2>&1 &
	pids="$pids $!"
	echo "run: started $name (pid $!), log $run_dir/logs/$name.log"
}

wait_for_file() {
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "run: $2 did not start; see $run_dir/logs/" >&2
			exit 1
		fi
		sleep 0.1
	done
}

if [ -z "$bootstrap" ]; then
	rm -f "$run_dir/broker.addr"
	start broker "$bin/flowsift-broker" --addr-file "$run_dir/broker.addr"
	wait_for_file "$run_dir/broker.addr" "the embedded broker"
	echo "run: embedded broker (librdkafka mock cluster) at $(cat "$run_dir/broker.addr")"
else
	echo "run: using Kafka at $bootstrap"
fi

if [ -z "$redis_url" ]; then
	mkdir -p "$run_dir/redis"
	rm -f "$run_dir/redis.url"
	port=16379
	while [ $port -lt 16479 ]; do
		if ! redis-cli -h 127.0.0.1 -p $port ping >/dev/null 2>&1; then
			redis-server --bind 127.0.0.1 --port $port --save "" --appendonly no \
				--dir "$run_dir/redis" --logfile "" >>"$run_dir/logs/redis.log" 2>&1 &
			rpid=$!
			sleep 0.3
			if kill -0 $rpid 2>/dev/null; then
				pids="$pids $rpid"
				break
			fi
		fi
		port=$((port + 1))
	done
	i=0
	until redis-cli -h 127.0.0.1 -p $port ping >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 50 ] && { echo "run: redis-server did not start; see $run_dir/logs/redis.log" >&2; exit 1; }
		sleep 0.1
	done
	echo "redis://127.0.0.1:$port" >"$run_dir/redis.url"
	echo "run: redis-server at redis://127.0.0.1:$port (pid $rpid)"
else
	echo "run: using Redis at the configured redis.url"
fi

start ingest "$bin/flowsift-ingest"
start report "$bin/flowsift-report"
sleep 1
for pid in $pids; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "run: a process exited at start; see $run_dir/logs/" >&2
		exit 1
	fi
done
echo "run: ingest listens on $("$bin/flowsift" config get ingest.listen) (NetFlow v5/v9, IPFIX; sFlow is counted, not yet decoded)"

if [ $demo -eq 1 ]; then
	"$bin/flowsift-gentraffic" --out "$run_dir/demo.pcap"
	port=$("$bin/flowsift" config get ingest.listen | cut -d, -f1 | sed 's/.*://')
	echo "run: softflowd exports $run_dir/demo.pcap as NetFlow v9 to 127.0.0.1:$port"
	# softflowd 1.1.0 in -r mode waits forever on its control socket when
	# that socket's path is longer than about 12 characters, so it runs
	# inside run.dir with short relative paths.
	(cd "$run_dir" && rm -f sf.ctl && timeout 60 softflowd -r demo.pcap -n "127.0.0.1:$port" \
		-v 9 -d -p sf.pid -c sf.ctl >>logs/softflowd.log 2>&1) ||
		echo "run: softflowd failed; see $run_dir/logs/softflowd.log" >&2
	sleep 2
fi

echo "run: press Ctrl-C to stop"
"$bin/flowsift" top --watch || true
