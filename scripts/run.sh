#!/bin/sh
# `make run`: starts the whole pipeline on this machine and shows the live
# top-talkers view.  Ctrl-C stops every process it started.
#
#   scripts/run.sh          pipeline + `flowsift top --watch`
#   scripts/run.sh --demo   the same, plus generated traffic exported by softflowd
#
# State lives under run.dir (default run/): the embedded broker's address,
# the Redis URL and socket, the archive of enriched flows in run/archive/,
# and one log file per process in run/logs/.
# Ctrl-C, SIGTERM or a hangup stops every process in reverse start order and
# ends the script with status 0, or 1 when a process exited with another
# status, which is named.  A process that fails while running ends it with
# status 1 too.
# RUN_REDIS_PORT sets the first port tried for the Redis it starts (16379).
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

# One `make run` per run folder: a second one would take over the first's
# ports and state files.
exec 9>"$run_dir/run.lock"
if ! flock -n 9; then
	echo "run: another 'make run' is using $run_dir; stop it first (Ctrl-C in its terminal)" >&2
	exit 1
fi

pids=""
# name:pid of every process started, to name the one that failed.
procs=""
own_redis=""
top_pid=""
job_control=0
status=0
cleanup() {
	trap - INT TERM HUP EXIT
	# The terminal or pipe may be gone (Ctrl-C on `make run | tee`): writing
	# must not kill the shell before every process is stopped.
	trap '' PIPE
	{ echo; echo "run: stopping"; } 2>/dev/null || true
	# The live view runs in the background, where a Ctrl-C does not reach it.
	if [ -n "$top_pid" ]; then
		kill -TERM "$top_pid" 2>/dev/null || true
		wait "$top_pid" 2>/dev/null || true
	fi
	# Stops in reverse start order, so report writes its last counters to
	# Redis and commits its offsets before Redis and the broker go away.
	reversed=""
	for pid in $pids; do
		reversed="$pid $reversed"
	done
	for pid in $reversed; do
		kill -TERM "$pid" 2>/dev/null || true
		wait_exit "$pid"
		code=$rc
		if [ "$code" -ne 0 ]; then
			echo "run: $(proc_name "$pid") (pid $pid) exited with status $code; see $run_dir/logs/" \
				>&2 || true
			status=1
		fi
	done
	# The Redis this script started is gone: a stale URL would send the CLI
	# to whatever listens on that port later.
	[ -n "$own_redis" ] && rm -f "$run_dir/redis.url"
	echo "run: stopped; logs are in $run_dir/logs/" 2>/dev/null || true
	# Hands the terminal back to the process group that started the script.
	if [ $job_control -eq 1 ]; then set +m; fi
}
# A stop request ends the run here, so the loops below never see the
# processes it stopped.  Any other exit keeps its status.
trap 'cleanup; exit $status' INT TERM HUP
trap cleanup EXIT

# Waits until process $1 has exited and sets rc to its exit status.  With job
# control on, dash's wait returns 128 + SIGSTOP at once for a job that was
# ever stopped (kill -STOP, then -CONT), even while the job still runs.  So
# the wait repeats until the process is gone.
wait_exit() {
	while :; do
		rc=0
		wait "$1" 2>/dev/null || rc=$?
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
}

# Prints the name that start() gave to process $1.
proc_name() {
	for entry in $procs; do
		if [ "${entry#*:}" = "$1" ]; then
			echo "${entry%%:*}"
			return
		fi
	done
	echo "process"
}

# Starts a process in its own session, so a Ctrl-C or hangup of the terminal
# reaches only this script, which then stops the processes in order.
start() {
	name=$1
	shift
	setsid "$@" >>"$run_dir/logs/$name.log" 2>&1 </dev/null &
	pids="$pids $!"
	procs="$procs $name:$!"
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
	port=${RUN_REDIS_PORT:-16379}
	last_port=$((port + 100))
	while [ $port -lt $last_port ]; do
		if ! redis-cli -h 127.0.0.1 -p $port ping >/dev/null 2>&1; then
			setsid redis-server --bind 127.0.0.1 --port $port --save "" --appendonly no \
				--dir "$run_dir/redis" --logfile "" >>"$run_dir/logs/redis.log" 2>&1 </dev/null &
			rpid=$!
			sleep 0.3
			if kill -0 $rpid 2>/dev/null; then
				pids="$pids $rpid"
				procs="$procs redis-server:$rpid"
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
	own_redis=1
	echo "run: redis-server at redis://127.0.0.1:$port (pid $rpid)"
else
	echo "run: using Redis at the configured redis.url"
fi

# Alerts of flowsift-report: JSON lines in run/logs/alerts.jsonl unless
# alert.json.output is set; the demo also starts a private rsyslogd on
# loopback that receives them as syslog with CEF (docs/alerts.md).
alerts_json=$("$bin/flowsift" config get alert.json.output)
if [ -z "$alerts_json" ]; then
	alerts_json="$run_dir/logs/alerts.jsonl"
	FLOWSIFT_ALERT_JSON_OUTPUT=$alerts_json
	export FLOWSIFT_ALERT_JSON_OUTPUT
	# The demo shows only the alerts of this run.
	if [ $demo -eq 1 ]; then
		: >"$alerts_json"
	fi
fi
syslog_log=""
if [ $demo -eq 1 ] && [ -z "$("$bin/flowsift" config get alert.syslog.target)" ] &&
	[ -x /usr/sbin/rsyslogd ]; then
	syslog_dir=$(cd "$run_dir" && pwd)/rsyslog
	syslog_log=$(cd "$run_dir" && pwd)/logs/syslog-alerts.log
	mkdir -p "$syslog_dir"
	: >"$syslog_log"
	cat >"$syslog_dir/rsyslog.conf" <<EOF2
global(workDirectory="$syslog_dir")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="15514")
*.* action(type="omfile" file="$syslog_log")
EOF2
	start rsyslog /usr/sbin/rsyslogd -n -f "$syslog_dir/rsyslog.conf" -i "$syslog_dir/rsyslogd.pid"
	FLOWSIFT_ALERT_SYSLOG_TARGET=tcp://127.0.0.1:15514
	export FLOWSIFT_ALERT_SYSLOG_TARGET
	sleep 0.5
fi

start ingest "$bin/flowsift-ingest"
start enrich "$bin/flowsift-enrich"
start report "$bin/flowsift-report"
start console "$bin/flowsift-console"
# Keeps the enriched flows in run/archive, so that `flowsift print` and
# `flowsift report` can look back after the run stops.  The readers skip the
# open file, so a new file starts every minute; the archive keeps 1 GiB.
start capture "$bin/flowsift" capture --topic "$("$bin/flowsift" config get kafka.topic.enriched)" \
	--dir "$run_dir/archive" --rotate-seconds 60 --retain-bytes 1g
filter_rules=$("$bin/flowsift" config get filter.rules)
if [ -f "$filter_rules" ]; then
	start filter "$bin/flowsift-filter"
fi
sleep 1
for pid in $pids; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "run: $(proc_name "$pid") (pid $pid) exited at start; see $run_dir/logs/" >&2
		exit 1
	fi
done
echo "run: ingest listens on $("$bin/flowsift" config get ingest.listen) (NetFlow, IPFIX and sFlow on every port)"
echo "run: web console at http://$("$bin/flowsift" config get console.listen)/"

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
	# The generated host 10.1.66.6 reaches 300 addresses on TCP 445 and
	# should raise one fan-out alert within a few seconds.
	i=0
	while [ $i -lt 100 ] && ! grep -qs '"rule":"fanout"' "$alerts_json"; do
		sleep 0.1
		i=$((i + 1))
	done
	if grep -qs '"rule":"fanout"' "$alerts_json"; then
		echo "run: alerts raised (JSON lines in $alerts_json):"
		sed 's/^/  /' "$alerts_json"
		if [ -n "$syslog_log" ]; then
			sleep 0.5
			echo "run: the same alerts as syslog with CEF, received by rsyslogd in $syslog_log:"
			grep 'CEF:' "$syslog_log" | sed 's/^/  /' || true
		fi
		echo "run: list alerts with: build/bin/flowsift report alerts"
	else
		echo "run: no fan-out alert within 10 s; see $run_dir/logs/report.log" >&2
	fi
	sleep 3
fi

# A Ctrl-C reaches the terminal's whole foreground process group.  Under
# `make run` that includes make, which then dies of SIGINT (status 130)
# whatever this script returns.  So on a terminal where the script is in
# the foreground, job control moves it into a process group of its own,
# which becomes the foreground group, and from here a Ctrl-C reaches only
# this script.  With job control each command runs in a group of its own,
# so the loop below waits on a background sleep, which a trapped signal
# interrupts.
# NOTE: a Ctrl-C before this point still reaches make.
if [ -t 0 ] &&
	[ "$(awk '{ print $5 }' /proc/$$/stat)" = "$(awk '{ print $8 }' /proc/$$/stat)" ]; then
	set -m
	job_control=1
fi
echo "run: press Ctrl-C to stop"
"$bin/flowsift" top --watch &
top_pid=$!
# Watches the workers while the live view runs: a worker that dies stops the
# run with a message instead of leaving a view of counters that no longer move.
while kill -0 "$top_pid" 2>/dev/null; do
	for pid in $pids; do
		if ! kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$top_pid" 2>/dev/null || true
			wait "$top_pid" 2>/dev/null || true
			echo "run: $(proc_name "$pid") (pid $pid) exited unexpectedly; see $run_dir/logs/" >&2
			exit 1
		fi
	done
	sleep 1 &
	wait $! || true
done
