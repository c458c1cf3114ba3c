#!/bin/sh
# Heap allocations per flow of flowsift-ingest, librdkafka included.
#
#   scripts/bench-alloc.sh CAPTURE [FLOWS]
#
# Runs flowsift-ingest under valgrind against a private flowsift-broker;
# memcheck's "total heap usage" line counts every malloc, calloc and realloc
# of the process.  It runs three times: sending nothing, then FLOWS flows of
# CAPTURE (default 20000, rounded down to whole seconds) at 2,000 flows/s
# with kafka.message.flows.max at its default, then at 1.  Allocations per
# flow = (allocations of the run with flows - allocations of the idle run)
# / flows.  Prints key=value lines:
#   alloc_idle=N alloc_batched=N alloc_single=N flows=N
#   alloc_per_flow_batched=X alloc_per_flow_single=X
# Settings (environment): BENCH_PORT (UDP port, default 23055), ALLOC_OUT
# (work folder, default build/bench/alloc).
set -eu
cd "$(dirname "$0")/.."

capture=${1:?usage: scripts/bench-alloc.sh CAPTURE [FLOWS]}
flows=${2:-20000}
port=${BENCH_PORT:-23055}
bin=build/bin
work=${ALLOC_OUT:-build/bench/alloc}
rate=2000
rm -rf "$work"
mkdir -p "$work/run"
work=$(cd "$work" && pwd)

broker_pid=""
cleanup() {
	[ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$bin/flowsift-broker" --addr-file "$work/broker.addr" >"$work/broker.log" 2>&1 &
broker_pid=$!
i=0
while [ ! -s "$work/broker.addr" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "bench-alloc: flowsift-broker did not start" >&2; exit 1; }
	sleep 0.1
done

# One run: label $1, flows per message $2, flows to send $3.  Prints the allocation count.
run() {
	log=$work/ingest.$1.log
	cat >"$work/flowsift.conf" <<EOF
run.dir = $work/run
kafka.bootstrap.servers = $(cat "$work/broker.addr")
kafka.message.flows.max = $2
ingest.listen = 127.0.0.1:$port
ingest.listen.tcp =
ingest.metrics.listen =
ingest.stats.interval = 0
EOF
	FLOWSIFT_CONFIG=$work/flowsift.conf valgrind --tool=memcheck --leak-check=no \
		--log-file="$work/valgrind.$1.log" "$bin/flowsift-ingest" >"$log" 2>&1 &
	pid=$!
	i=0
	while ! grep -q 'listening on' "$log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { echo "bench-alloc: flowsift-ingest did not start" >&2; exit 1; }
		sleep 0.1
	done
	if [ "$3" -gt 0 ]; then
		"$bin/flowsift-bench" send --rate "$rate" --duration $(($3 / rate)) --port "$port" \
			"$capture" >"$work/send.$1.log" 2>&1
	fi
	sleep 2
	kill -TERM "$pid"
	wait "$pid" || true
	grep -o 'total heap usage: [0-9,]* allocs' "$work/valgrind.$1.log" |
		sed 's/[^0-9]//g'
}

idle=$(run idle 128 0)
batched=$(run batched 128 "$flows")
single=$(run single 1 "$flows")
# The flows actually sent, from the sender's summary line.
flows=$(grep -o 'flows=[0-9]*' "$work/send.batched.log" | tail -n 1 | cut -d= -f2)
echo "alloc_idle=$idle alloc_batched=$batched alloc_single=$single flows=$flows"
awk -v i="$idle" -v b="$batched" -v s="$single" -v f="$flows" 'BEGIN {
	printf "alloc_per_flow_batched=%.3f alloc_per_flow_single=%.3f\n", (b - i) / f, (s - i) / f
}'
