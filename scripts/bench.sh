#!/bin/sh
# `make bench`: the benchmarks of BENCHMARKS.md, on this machine.
#
#   scripts/bench.sh                 about 6 minutes
#   BENCH_QUICK=1 scripts/bench.sh   about 2.5 minutes, fewer and shorter runs
#
# Sections, each writing key=value lines to build/bench/results.txt and a
# Markdown summary to build/bench/results.md:
#   1. stage     one pipeline stage on one core in flowsift-bench: decode,
#                decode + Avro encode (direct writer and avro-c), Avro decode
#                (direct reader and avro-c), enrich, filter, top-N
#                aggregation, and top-N flushes into a private redis-server;
#                median of runs
#   1b. compress speed and ratio of lz4 and zstd at level 1 (lz4 -b1,
#                zstd -b1) on the Avro messages of the v9 and IPFIX captures
#   2. callgrind instructions per flow of decode, decode + encode (direct
#                and avro-c) and Avro decode (direct and avro-c)
#   3. e2e       UDP on loopback through the embedded broker: flowsift-ingest
#                (the CPU of its librdkafka threads also on its own)
#                and flowsift-report, then nfacctd (kafka plugin to the same
#                broker), nfcapd, and nfcapd with LZ4-compressed files (-y),
#                each fed the same capture at rising rates
#                until it loses flows; CPU seconds per million flows and peak RSS
#                then the full pipeline (ingest, enrich, filter, report) at
#                BENCH_PIPELINE_RATE with each worker's CPU and peak RSS
#   4. growth    flowsift-ingest at 1, 100 and 10,000 exporters and at 1,000
#                templates: decode + encode rate, CPU and peak RSS
#   5. alloc     heap allocations per flow of flowsift-ingest under valgrind,
#                with several flows per Kafka message and with one
#                (scripts/bench-alloc.sh)
#
# Settings (environment): BENCH_QUICK=1; BENCH_OUT (default build/bench);
# BENCH_PORT (first UDP port, default 23055); BENCH_E2E_FORMATS (default
# v9; any of v5 v9 ipfix); BENCH_RATES (flows/s tried in the e2e section);
# BENCH_TRIAL_SECONDS (seconds of traffic per e2e trial); BENCH_COLLECTORS
# (default flowsift nfacctd nfcapd nfcapd_lz4); BENCH_SECTIONS (default stage compress
# callgrind e2e growth alloc); BENCH_PIPELINE_RATE (flows/s of the full pipeline trial).
# Needs pmacct, nfdump, valgrind and redis-server (scripts/deps.sh).
set -eu
cd "$(dirname "$0")/.."

bin=build/bin
bench=$bin/flowsift-bench
out=${BENCH_OUT:-build/bench}
mkdir -p "$out"
# Absolute, because redis-server opens its log file after changing folder.
out=$(cd "$out" && pwd)
work=$out/work
results=$out/results.txt
summary=$out/results.md
port=${BENCH_PORT:-23055}
quick=${BENCH_QUICK:-0}
hz=$(getconf CLK_TCK)

if [ "$quick" = 1 ]; then
	capture_flows=100k
	stage_runs=3
	stage_min=300k
	redis_min=30k
	callgrind_flows=20k
	rates=${BENCH_RATES:-100k 300k}
	trial=${BENCH_TRIAL_SECONDS:-2}
	growth_flows=100k
	growth_cases="1:1 10000:1"
	e2e_flows=400k
else
	capture_flows=300k
	stage_runs=5
	stage_min=1m
	redis_min=100k
	callgrind_flows=100k
	rates=${BENCH_RATES:-50k 100k 200k 300k 400k 600k 800k 1200k 1600k 2000k 2400k 3200k}
	trial=${BENCH_TRIAL_SECONDS:-4}
	growth_flows=300k
	growth_cases="1:1 100:1 10000:1 1:1000"
	e2e_flows=1m
fi
e2e_formats=${BENCH_E2E_FORMATS:-v9}
collectors=${BENCH_COLLECTORS:-flowsift nfacctd nfcapd nfcapd_lz4}
sections=${BENCH_SECTIONS:-stage compress callgrind e2e growth alloc}

want() {
	case " $sections " in *" $1 "*) return 0 ;; esac
	return 1
}
growth_rate=100000
pipeline_rate=${BENCH_PIPELINE_RATE:-20000}

for tool in nfacctd nfcapd nfdump valgrind redis-server lz4 zstd; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench: $tool is missing; run scripts/deps.sh (make deps) first" >&2
		exit 1
	fi
done
if [ ! -x "$bench" ] || [ ! -x "$bin/flowsift-ingest" ]; then
	echo "bench: build first: make -j2 all" >&2
	exit 1
fi

rm -rf "$work"
mkdir -p "$work/logs" "$work/captures"
: >"$results"

pids=""
cleanup() {
	for pid in $pids; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null || true
	done
	pids=""
}
trap cleanup EXIT INT TERM

note() {
	echo "bench: $*"
}

record() {
	echo "$*" >>"$results"
	echo "  $*"
}

# Prints the value of key in a line of key=value words (quotes ignored).
kv() {
	printf '%s\n' "$2" | tr ' "' '\n\n' | sed -n "s/^$1=//p" | tail -n 1
}

# CPU seconds (user + system) of the processes given, from /proc/PID/stat.
cpu_seconds() {
	ticks=0
	for pid in "$@"; do
		t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }') || t=0
		ticks=$((ticks + ${t:-0}))
	done
	awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}

# CPU seconds of the threads of process $1 whose name matches the shell
# pattern $2, from /proc/PID/task/TID/stat.
thread_cpu_seconds() {
	ticks=0
	for task in /proc/"$1"/task/*; do
		comm=$(cat "$task/comm" 2>/dev/null) || continue
		# shellcheck disable=SC2254
		case $comm in
		$2)
			t=$(sed 's/.*) //' "$task/stat" 2>/dev/null | awk '{ print $12 + $13 }') || t=0
			ticks=$((ticks + ${t:-0}))
			;;
		esac
	done
	awk -v t="$ticks" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}

# Peak resident set (VmHWM, kB) summed over the processes given.
peak_rss_kb() {
	kb=0
	for pid in "$@"; do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || v=0
		kb=$((kb + ${v:-0}))
	done
	echo "$kb"
}

# Kernel drops of the UDP socket bound to 127.0.0.1:port (/proc/net/udp "drops").
udp_drops() {
	hex=$(printf '%04X' "$1")
	awk -v p="0100007F:$hex" '$2 == p { d += $NF } END { print d + 0 }' /proc/net/udp
}

# Succeeds when a UDP socket is bound to 127.0.0.1:port.
udp_bound() {
	awk -v p="0100007F:$(printf '%04X' "$1")" '$2 == p { found = 1 } END { exit !found }' /proc/net/udp
}

# The children of a process (nfacctd runs its plugin as a child).
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null || true
}

per_million() {
	awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", c * 1e6 / n; else print "n/a" }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "n/a" && b != "n/a") printf "%.2f", a / b; else print "n/a" }'
}

wait_for() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "bench: $2 did not start; see $work/logs/" >&2
			exit 1
		fi
		sleep 0.1
	done
}

echo "bench: machine $(nproc) cores, $(awk '/MemTotal/ { printf "%d MB", $2 / 1024 }' /proc/meminfo)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), quick=$quick"
record "machine cores=$(nproc) load_start=$(cut -d' ' -f1 /proc/loadavg) kernel=$(uname -r)" \
	"cpu=\"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo | tr ' ' '_')\""

# ---- captures ---------------------------------------------------------------
note "generating captures ($capture_flows flows each)"
for f in v5 v9 ipfix sflow; do
	"$bench" gen --format "$f" --flows "$capture_flows" --out "$work/captures/$f.pcap" >/dev/null
done
# The end-to-end captures hold more distinct flows than any rate tried sends
# in one second, so that nfacctd (1 s refresh) never merges two copies of a flow.
for f in $e2e_formats; do
	"$bench" gen --format "$f" --flows "$e2e_flows" --seed 2 --unique-keys \
		--out "$work/captures/e2e-$f.pcap" >/dev/null
done

# ---- 1. stages ---------------------------------------------------------------
note "1. stages, one core, median of $stage_runs runs"
redis_port=$((port + 100))
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
	--dir "$work" --logfile "$work/logs/redis.log" >/dev/null 2>&1 &
redis_pid=$!
pids="$pids $redis_pid"
wait_for "redis-cli -p $redis_port ping >/dev/null 2>&1" "redis-server"
perl tests/data/make-mmdb.pl "$work/city.mmdb" "$work/asn.mmdb" 2>/dev/null ||
	note "cannot write the test GeoIP databases (libmaxmind-db-writer-perl); enrich runs without GeoIP"
printf '10.0.0.0/16 site=par role=clients\n172.16.0.0/14 site=ams role=servers\n' >"$work/prefixes.txt"
simple_filter='dst port 443'
complex_filter='(src net 10.0.0.0/24 or dst net 172.16.0.0/16) and proto tcp and dst port in [80 443 8080 8443] and not flags R and bytes > 1k or (proto udp and dst port 53 and packets > 10)'

stage() {
	name=$1
	shift
	line=$("$bench" stage --runs "$stage_runs" "$@") || {
		echo "bench: stage $name failed" >&2
		return 0
	}
	record "stage name=$name $line"
}

want stage && for f in v5 v9 ipfix sflow; do
	c=$work/captures/$f.pcap
	stage "decode/$f" --stage decode --min-flows "$stage_min" "$c"
	stage "encode/$f" --stage encode --min-flows "$stage_min" "$c"
done
want stage && for f in v9 ipfix; do
	c=$work/captures/$f.pcap
	stage "encode-avro-c/$f" --stage encode-avro-c --min-flows "$stage_min" "$c"
	stage "avro-decode/$f" --stage avro-decode --min-flows "$stage_min" "$c"
	stage "avro-decode-avro-c/$f" --stage avro-decode-avro-c --min-flows "$stage_min" "$c"
done
if want stage; then
c=$work/captures/v9.pcap
geo=""
[ -s "$work/city.mmdb" ] && geo="--geoip-city $work/city.mmdb --geoip-asn $work/asn.mmdb"
# shellcheck disable=SC2086
stage "enrich/v9" --stage enrich --min-flows "$stage_min" $geo --prefixes "$work/prefixes.txt" \
	--home-networks 10.0.0.0/8 "$c"
stage "filter-simple/v9" --stage filter --filter "$simple_filter" --min-flows "$stage_min" "$c"
stage "filter-complex/v9" --stage filter --filter "$complex_filter" --min-flows "$stage_min" "$c"
stage "topn/v9" --stage topn --min-flows "$stage_min" "$c"
stage "topn-redis/v9" --stage topn-redis --redis "redis://127.0.0.1:$redis_port" \
	--flush-every 100k --min-flows "$redis_min" "$c"
fi

# ---- 1b. compression of the Avro output ----------------------------------------
# librdkafka compresses each batch of messages in the LZ4 frame format, at
# the fastest LZ4 level it accepts.  lz4 -b1 times the same level on one
# core over the messages of the v9 and IPFIX captures, written back to back
# as a Kafka message carries them.  zstd -b1, the fastest zstd level that
# librdkafka accepts, is timed for comparison.
note "1b. compression of the Avro output (lz4 -b1, zstd -b1)"
# Prints "ratio MB/s" from the last result line of lz4 -b or zstd -b.
compress_speed() {
	"$@" 2>&1 | tr '\r' '\n' | grep 'MB/s' | tail -n 1 |
		sed 's/.*(x\{0,1\}\([0-9.]*\)), *\([0-9.]*\) MB\/s.*/\1 \2/'
}
want compress && for f in v9 ipfix; do
	avro=$work/compress-$f.avro
	line=$("$bench" stage --stage avro-decode --runs 1 --min-flows 1 --avro-out "$avro" \
		"$work/captures/$f.pcap") || { echo "bench: cannot write $avro" >&2; continue; }
	per_flow=$(kv avro_bytes_per_flow "$line")
	for codec in lz4 zstd; do
		result=$(compress_speed "$codec" -b1 -i3 "$avro")
		ratio=${result% *}
		speed=${result#* }
		record "compress name=$codec/$f level=1 avro_bytes_per_flow=$per_flow ratio=${ratio:-n/a}" \
			"mb_per_s=${speed:-n/a} cpu_s_per_mflow=$(awk -v b="$per_flow" -v s="${speed:-0}" \
			'BEGIN { if (s > 0) printf "%.3f", b / s; else print "n/a" }')"
	done
done

# ---- 2. instruction counts ----------------------------------------------------
note "2. instructions per flow (callgrind, $callgrind_flows flows)"
want callgrind && for f in v9 ipfix; do
	for s in decode encode encode-avro-c avro-decode avro-decode-avro-c; do
		cg=$work/callgrind.$s.$f.out
		line=$(valgrind --tool=callgrind --callgrind-out-file="$cg" --toggle-collect='stage_loop_*' \
			"$bench" stage --stage "$s" --runs 1 --min-flows "$callgrind_flows" \
			"$work/captures/$f.pcap" 2>/dev/null) || true
		flows=$(kv flows_per_run "$line")
		ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$cg" 2>/dev/null || echo 0)
		record "callgrind name=$s/$f flows=$flows instructions=$ir" \
			"instructions_per_flow=$(awk -v i="$ir" -v n="$flows" 'BEGIN { if (n > 0) printf "%.0f", i / n }')"
		callgrind_annotate --inclusive=no "$cg" 2>/dev/null | sed -n '/^ *Ir/,$p' | head -n 25 \
			>"$work/callgrind.$s.$f.top.txt" || true
	done
done

# ---- 3. end to end -------------------------------------------------------------
note "3. end to end over UDP on loopback, $trial s per trial, rates: $rates"
"$bin/flowsift-broker" --addr-file "$work/broker.addr" --topic bench.nfacctd --topic bench.pipeline \
	--topic bench.enriched --topic bench.web \
	>"$work/logs/broker.log" 2>&1 &
broker_pid=$!
pids="$pids $broker_pid"
wait_for "test -s $work/broker.addr" "flowsift-broker"
broker=$(cat "$work/broker.addr")
redis-cli -p "$redis_port" flushall >/dev/null

ingest_port=$port
config=$work/flowsift.conf
cat >"$config" <<EOF
run.dir = $work/run
kafka.bootstrap.servers = $broker
redis.url = redis://127.0.0.1:$redis_port
ingest.listen = 127.0.0.1:$ingest_port
ingest.listen.tcp =
ingest.stats.interval = 1
ingest.metrics.listen =
report.metrics.listen =
kafka.topic.enriched = bench.enriched
enrich.group.id = bench-enrich
enrich.metrics.listen =
filter.topic = bench.enriched
filter.group.id = bench-filter
filter.rules = $work/filter.rules
filter.metrics.listen =
report.topic = bench.enriched
report.group.id = bench-report
report.stats.interval = 1
alert.topic =
EOF
mkdir -p "$work/run"
FLOWSIFT_CONFIG=$config
export FLOWSIFT_CONFIG
printf 'rule web topic bench.web: dst port 443 or dst port 80\n' >"$work/filter.rules"
report_pid=""
enrich_pid=""
filter_pid=""
nfacctd_appended=0

# Stops the processes given, the first with SIGTERM, and all of them with
# SIGKILL when they are still there after 10 s.
stop_processes() {
	kill -TERM "$1" 2>/dev/null || true
	i=0
	while [ $i -lt 100 ]; do
		alive=0
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	for pid in "$@"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait "$1" 2>/dev/null || true
	for pid in "$@"; do
		pids=$(echo "$pids" | sed "s/ $pid\$//; s/ $pid / /")
	done
}

report_flows() {
	v=$(kv flows "$(grep 'consumed=' "$work/logs/report.log" 2>/dev/null | tail -n 1)")
	echo "${v:-0}"
}

# Sends capture $1 at rate $2 to port $3; sets sent_flows, sent_packets and sent_rate.
send_capture() {
	line=$("$bench" send --rate "$2" --duration "$trial" --loops 0 --port "$3" "$1")
	echo "$line" >>"$work/logs/send.log"
	sent_flows=$(kv flows "$line")
	sent_packets=$(kv packets "$line")
	sent_rate=$(kv flow_rate "$line")
}

# One flowsift-ingest trial: capture $1, rate $2, label $3.  With $4 = report,
# flowsift-report runs too and its share is recorded.  Sets trial_loss.
trial_flowsift() {
	log=$work/logs/ingest.$3.log
	"$bin/flowsift-ingest" >"$log" 2>&1 &
	ingest_pid=$!
	pids="$pids $ingest_pid"
	wait_for "grep -q 'listening on' $log" "flowsift-ingest"
	r0=$(report_flows)
	c0=$(cpu_seconds "$ingest_pid")
	k0=$(thread_cpu_seconds "$ingest_pid" 'rdk:*')
	rc0=0
	ec0=0
	fc0=0
	[ -n "$report_pid" ] && rc0=$(cpu_seconds "$report_pid")
	[ -n "$enrich_pid" ] && ec0=$(cpu_seconds "$enrich_pid")
	[ -n "$filter_pid" ] && fc0=$(cpu_seconds "$filter_pid")
	send_capture "$1" "$2" "$ingest_port"
	sleep 2
	c1=$(cpu_seconds "$ingest_pid")
	k1=$(thread_cpu_seconds "$ingest_pid" 'rdk:*')
	hwm=$(peak_rss_kb "$ingest_pid")
	drops=$(udp_drops "$ingest_port")
	stop_processes "$ingest_pid"
	stats=$(grep 'udp_datagrams=' "$log" | tail -n 1)
	decoded=$(kv flows "$stats")
	delivered=$(kv delivered "$stats")
	kdrops=$(kv udp_kernel_drops "$stats")
	failed=$(($(kv failed "$stats") + $(kv dropped_queue_full "$stats") + $(kv encode_errors "$stats") + $(kv produce_errors "$stats")))
	trial_loss=$((sent_flows - delivered))
	[ "$trial_loss" -lt 0 ] && trial_loss=0
	if [ "$trial_loss" -eq 0 ] && [ $((kdrops + drops + failed)) -gt 0 ]; then
		trial_loss=$((kdrops + failed))
	fi
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	# librdkafka's threads (rdk:*) compress and send; the others receive,
	# decode and encode.
	kcpu=$(awk -v a="$k0" -v b="$k1" 'BEGIN { printf "%.2f", b - a }')
	extra="kafka_threads_cpu_s_per_mflow=$(per_million "$kcpu" "$sent_flows")"
	if [ "${4:-}" = report ]; then
		# The report worker gets the rest of the drain time to catch up.
		sleep 3
		r1=$(report_flows)
		rc1=$(cpu_seconds "$report_pid")
		rcpu=$(awk -v a="$rc0" -v b="$rc1" 'BEGIN { printf "%.2f", b - a }')
		extra="$extra report_flows=$((r1 - r0)) report_lag=$((sent_flows - (r1 - r0))) report_cpu_s=$rcpu"
		extra="$extra report_cpu_s_per_mflow=$(per_million "$rcpu" "$((r1 - r0))")"
		extra="$extra report_peak_rss_kb=$(peak_rss_kb "$report_pid")"
		if [ -n "$enrich_pid" ]; then
			ecpu=$(awk -v a="$ec0" -v b="$(cpu_seconds "$enrich_pid")" 'BEGIN { printf "%.2f", b - a }')
			fcpu=$(awk -v a="$fc0" -v b="$(cpu_seconds "$filter_pid")" 'BEGIN { printf "%.2f", b - a }')
			extra="$extra enrich_cpu_s_per_mflow=$(per_million "$ecpu" "$sent_flows")"
			extra="$extra enrich_peak_rss_kb=$(peak_rss_kb "$enrich_pid")"
			extra="$extra filter_cpu_s_per_mflow=$(per_million "$fcpu" "$sent_flows")"
			extra="$extra filter_peak_rss_kb=$(peak_rss_kb "$filter_pid")"
		fi
	fi
	record "e2e collector=flowsift case=$3 rate=$2 sent_rate=$sent_rate sent=$sent_flows decoded=$decoded" \
		"delivered=$delivered kernel_drops=$kdrops socket_drops=$drops delivery_failures=$failed" \
		"loss=$trial_loss cpu_s=$cpu cpu_s_per_mflow=$(per_million "$cpu" "$sent_flows")" \
		"peak_rss_kb=$hwm $extra"
}

trial_nfacctd() {
	cfg=$work/nfacctd.$3.conf
	# Full delivery as pmacct's CONFIG-KEYS advises: a large socket buffer
	# (nfacctd_pipe_size), a large plugin pipe with buffering at the advised
	# 1:1000 ratio (plugin_pipe_size, plugin_buffer_size), cache buckets for
	# the distinct flows of a refresh interval (kafka_cache_entries, a prime;
	# about 10 entries per bucket), and an aggregate of the full flow key so
	# that records are not merged.
	cat >"$cfg" <<EOF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $ingest_port
nfacctd_pipe_size: 8388608
nfacctd_time_new: true
plugins: kafka[k]
aggregate[k]: peer_src_ip, src_host, dst_host, src_port, dst_port, proto, tos, tcpflags, in_iface, out_iface, src_as, dst_as, src_mask, dst_mask, timestamp_start, timestamp_end
kafka_output[k]: json
kafka_topic[k]: bench.nfacctd
kafka_broker_host[k]: ${broker%:*}
kafka_broker_port[k]: ${broker##*:}
kafka_refresh_time[k]: 1
kafka_cache_entries[k]: 131071
plugin_pipe_size[k]: 102400000
plugin_buffer_size[k]: 102400
EOF
	log=$work/logs/nfacctd.$3.log
	nfacctd -f "$cfg" >"$log" 2>&1 &
	nf_pid=$!
	pids="$pids $nf_pid"
	wait_for "udp_bound $ingest_port" "nfacctd"
	wait_for "grep -q 'cache entries' $log" "the nfacctd kafka plugin"
	sleep 0.5
	procs="$nf_pid $(children "$nf_pid")"
	c0=$(cpu_seconds $procs)
	send_capture "$1" "$2" "$ingest_port"
	sleep 3
	procs="$nf_pid $(children "$nf_pid")"
	c1=$(cpu_seconds $procs)
	hwm=$(peak_rss_kb $procs)
	drops=$(udp_drops "$ingest_port")
	procs="$nf_pid $(children "$nf_pid")"
	# shellcheck disable=SC2086
	stop_processes $procs
	appended=$(kv appended "$("$bench" count --offsets --brokers "$broker" --topic bench.nfacctd)")
	delivered=$((appended - nfacctd_appended))
	nfacctd_appended=$appended
	purged=$(grep -o 'QN: [0-9]*' "$log" | awk '{ n += $2 } END { print n + 0 }')
	missing=$(grep -c 'missing data' "$log" || true)
	kafka_errors=$(grep -c 'Connection failed to Kafka' "$log" || true)
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	# One message per flow: the aggregate holds the full key with both
	# timestamps, and the e2e capture repeats no flow within a refresh interval.
	trial_loss=$((sent_flows - delivered))
	[ "$trial_loss" -lt 0 ] && trial_loss=0
	[ "$trial_loss" -eq 0 ] && [ "$drops" -gt 0 ] && trial_loss=$drops
	record "e2e collector=nfacctd case=$3 rate=$2 sent_rate=$sent_rate sent=$sent_flows" \
		"purged=$purged delivered=$delivered socket_drops=$drops" \
		"missing_data_logs=$missing kafka_error_logs=$kafka_errors loss=$trial_loss cpu_s=$cpu" \
		"cpu_s_per_mflow=$(per_million "$cpu" "$sent_flows") peak_rss_kb=$hwm"
}

# nfcapd_trial NAME FLAGS CAPTURE RATE CASE: one nfcapd trial recorded as
# collector NAME, with FLAGS added to its command line.
nfcapd_trial() {
	name=$1
	flags=$2
	shift 2
	dir=$work/$name.$3
	rm -rf "$dir"
	mkdir -p "$dir"
	log=$work/logs/$name.$3.log
	# nfcapd(1): -B sets the socket buffer; -t 3600 keeps one file per trial.
	# shellcheck disable=SC2086
	nfcapd -b 127.0.0.1 -p "$ingest_port" -w "$dir" -t 3600 -B 8388608 $flags >"$log" 2>&1 &
	nf_pid=$!
	pids="$pids $nf_pid"
	wait_for "udp_bound $ingest_port" "nfcapd"
	c0=$(cpu_seconds "$nf_pid")
	send_capture "$1" "$2" "$ingest_port"
	sleep 2
	c1=$(cpu_seconds "$nf_pid")
	hwm=$(peak_rss_kb "$nf_pid")
	drops=$(udp_drops "$ingest_port")
	stop_processes "$nf_pid"
	stat=$(nfdump -R "$dir" -I 2>/dev/null || true)
	flows=$(printf '%s\n' "$stat" | awk -F': *' '/^Flows:/ { print $2; exit }')
	flows=${flows:-0}
	cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
	trial_loss=$((sent_flows - flows))
	[ "$trial_loss" -lt 0 ] && trial_loss=0
	[ "$trial_loss" -eq 0 ] && [ "$drops" -gt 0 ] && trial_loss=$drops
	record "e2e collector=$name case=$3 rate=$2 sent_rate=$sent_rate sent=$sent_flows stored=$flows" \
		"socket_drops=$drops loss=$trial_loss cpu_s=$cpu cpu_s_per_mflow=$(per_million "$cpu" "$sent_flows")" \
		"peak_rss_kb=$hwm"
}

trial_nfcapd() {
	nfcapd_trial nfcapd "" "$@"
}

# nfcapd compressing its files with LZ4, as flowsift's producer compresses
# its Kafka batches.
trial_nfcapd_lz4() {
	nfcapd_trial nfcapd_lz4 -y "$@"
}

# Writes the Markdown tables of results.md from the key=value lines of results.txt.
summarize() {
	awk '
	function v(key,   i, kv) {
		for (i = 2; i <= NF; i++) {
			if (index($i, key "=") == 1)
				return substr($i, length(key) + 2)
		}
		return ""
	}
	function fmt(n) {
		if (n == "" || n == "n/a") return "n/a"
		n = n + 0
		if (n >= 1e6) return sprintf("%.2fM", n / 1e6)
		if (n >= 1e3) return sprintf("%.0fk", n / 1e3)
		return n
	}
	$1 == "machine" { machine = machine " " substr($0, 9) }
	$1 == "stage" { stages[++ns] = sprintf("| %s | %s | %s–%s | %s |", v("name"), fmt(v("median_rate")),
		fmt(v("min_rate")), fmt(v("max_rate")), extra()) }
	$1 == "compress" { cz[++ncz] = sprintf("| %s | %s | %s | %s | %s |", v("name"), v("avro_bytes_per_flow"),
		v("ratio"), v("mb_per_s"), v("cpu_s_per_mflow")) }
	$1 == "callgrind" { cg[++ncg] = sprintf("| %s | %s | %s |", v("name"), v("instructions_per_flow"), fmt(v("flows"))) }
	$1 == "e2e" {
		key = v("collector") SUBSEP v("case")
		cpu[key] = v("cpu_s_per_mflow")
		kafka_cpu = v("kafka_threads_cpu_s_per_mflow")
		e2e[++ne] = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", v("collector"), v("case"),
			fmt(v("rate")), fmt(v("sent_rate")), fmt(v("sent")), v("loss"), v("cpu_s_per_mflow"),
			kafka_cpu, sprintf("%.1f", v("peak_rss_kb") / 1024))
		if (v("report_flows") != "")
			rep[++nr] = sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.1f | %.1f |", v("case"),
				fmt(v("sent")), fmt(v("report_flows")), v("report_lag"), v("cpu_s_per_mflow"),
				v("enrich_cpu_s_per_mflow"), v("filter_cpu_s_per_mflow"), v("report_cpu_s_per_mflow"),
				v("peak_rss_kb") / 1024, v("enrich_peak_rss_kb") / 1024, v("filter_peak_rss_kb") / 1024,
				v("report_peak_rss_kb") / 1024)
		cases[v("case")] = 1
	}
	$1 == "zero_loss" { zl[v("collector") SUBSEP v("format")] = v("max_rate"); formats[v("format")] = 1 }
	$1 == "alloc" { al = sprintf("| %s | %s | %s | %s |", fmt(v("flows")), v("alloc_idle"), v("alloc_per_flow_batched"),
		v("alloc_per_flow_single")) }
	$1 == "growth" { gr[++ng] = sprintf("| %s | %s | %s |", v("exporters"), v("templates"), fmt(v("median_rate"))) }
	function extra(   s) {
		s = ""
		if (v("avro_bytes_per_flow") != "") s = s " Avro " v("avro_bytes_per_flow") " B/flow"
		if (v("instructions") != "") s = s " " v("instructions") " filter instructions, " v("matched") " matched"
		if (v("commands_per_1000_flows") != "") s = s " " v("commands_per_1000_flows") " Redis commands per 1,000 flows, flush every " fmt(v("flush_every"))
		if (v("geoip_hits_per_flow") != "") s = s " GeoIP hits/flow " v("geoip_hits_per_flow") ", prefix hits/flow " v("prefix_hits_per_flow")
		return s
	}
	END {
		print "# flowsift-bench results"
		print ""
		print "Machine:" machine
		print ""
		print "## Stages, one core (flows per second, median of runs)"
		print ""
		print "| stage/capture | median | min–max | notes |"
		print "|---|---|---|---|"
		for (i = 1; i <= ns; i++) print stages[i]
		print ""
		if (ncz > 0) {
			print "## Compression of the Avro messages, one core (level 1)"
			print ""
			print "| codec/capture | Avro bytes per flow | ratio | MB/s | CPU s per million flows |"
			print "|---|---|---|---|---|"
			for (i = 1; i <= ncz; i++) print cz[i]
			print ""
		}
		print "## Instructions per flow (callgrind)"
		print ""
		print "| stage/capture | instructions per flow | flows |"
		print "|---|---|---|"
		for (i = 1; i <= ncg; i++) print cg[i]
		print ""
		print "## End to end over UDP on loopback"
		print ""
		print "| collector | case | offered rate | achieved rate | flows sent | flows lost | CPU s per million flows | of which librdkafka threads | peak RSS MB |"
		print "|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= ne; i++) print e2e[i]
		print ""
		print "Full pipeline trial: ingest, enrich, filter and report (flows counted by report within 5 s after the last was sent); CPU s per million flows and peak RSS MB of each worker:"
		print ""
		print "| case | flows sent | flows counted | not yet counted | ingest CPU | enrich CPU | filter CPU | report CPU | ingest RSS | enrich RSS | filter RSS | report RSS |"
		print "|---|---|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i <= nr; i++) print rep[i]
		print ""
		print "## Highest offered rate with zero loss, and ratios"
		print ""
		print "| format | flowsift | nfacctd | nfcapd | nfcapd -y | flowsift / nfacctd | flowsift / nfcapd | flowsift / nfcapd -y |"
		print "|---|---|---|---|---|---|---|---|"
		# max_rate: every trial up to it lost nothing.
		for (f in formats) {
			a = zl["flowsift" SUBSEP f]; b = zl["nfacctd" SUBSEP f]; c = zl["nfcapd" SUBSEP f]
			d = zl["nfcapd_lz4" SUBSEP f]
			printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", f, fmt(a), fmt(b), fmt(c), fmt(d),
				(b > 0 ? sprintf("%.2f", a / b) : "n/a"), (c > 0 ? sprintf("%.2f", a / c) : "n/a"),
				(d > 0 ? sprintf("%.2f", a / d) : "n/a")
		}
		print ""
		print "Flows per CPU-second of flowsift-ingest relative to each peer, same case (peer CPU per flow / ingest CPU per flow):"
		print ""
		print "| case | vs nfacctd | vs nfcapd | vs nfcapd -y |"
		print "|---|---|---|---|"
		for (k in cases) {
			a = cpu["flowsift" SUBSEP k]; b = cpu["nfacctd" SUBSEP k]; c = cpu["nfcapd" SUBSEP k]
			d = cpu["nfcapd_lz4" SUBSEP k]
			if (a == "" || a == "n/a" || a + 0 == 0) continue
			printf "| %s | %s | %s | %s |\n", k, (b != "" && b != "n/a" ? sprintf("%.2f", b / a) : "n/a"),
				(c != "" && c != "n/a" ? sprintf("%.2f", c / a) : "n/a"),
				(d != "" && d != "n/a" ? sprintf("%.2f", d / a) : "n/a")
		}
		print ""
		print "## Cost growth (NetFlow v9, in process decode + Avro encode)"
		print ""
		print "| exporters | templates per exporter | flows/s |"
		print "|---|---|---|"
		for (i = 1; i <= ng; i++) print gr[i]
		if (al != "") {
			print ""
			print "## Heap allocations per flow of flowsift-ingest (valgrind)"
			print ""
			print "| flows sent | allocations with no traffic | per flow, default flows per message | per flow, one flow per message |"
			print "|---|---|---|---|"
			print al
		}
	}' "$1"
}

to_number() {
	echo "$1" | sed 's/k$/000/; s/m$/000000/'
}

# The zero-loss series run each collector alone with the broker, as the
# peers have no report worker; the pipeline trial after it adds
# flowsift-report (consuming bench.pipeline, flushing to Redis).
want e2e && for f in $e2e_formats; do
	c=$work/captures/e2e-$f.pcap
	for collector in $collectors; do
		# A series goes on past small losses (below 0.1%) to show the curve;
		# max_rate is the highest rate of the unbroken run of lossless trials.
		best=0
		below=0
		lossless=1
		for rate in $rates; do
			n=$(to_number "$rate")
			"trial_$collector" "$c" "$n" "$f-$n"
			[ "$trial_loss" -gt 0 ] && lossless=0
			[ $lossless -eq 1 ] && best=$n
			[ $((trial_loss * 1000)) -ge "$sent_flows" ] && break
			below=$n
		done
		record "zero_loss collector=$collector format=$f max_rate=$best max_rate_loss_below_0.1pct=$below"
	done
done

if want e2e; then
note "3b. full pipeline at $pipeline_rate flows/s: ingest, enrich, filter, report, broker, Redis"
FLOWSIFT_KAFKA_TOPIC_RAW=bench.pipeline
export FLOWSIFT_KAFKA_TOPIC_RAW
if [ -s "$work/city.mmdb" ]; then
	FLOWSIFT_ENRICH_GEOIP_CITY=$work/city.mmdb
	FLOWSIFT_ENRICH_GEOIP_ASN=$work/asn.mmdb
	export FLOWSIFT_ENRICH_GEOIP_CITY FLOWSIFT_ENRICH_GEOIP_ASN
fi
[ -s "$work/prefixes.txt" ] && { FLOWSIFT_ENRICH_PREFIXES=$work/prefixes.txt; export FLOWSIFT_ENRICH_PREFIXES; }
"$bin/flowsift-enrich" >"$work/logs/enrich.log" 2>&1 &
enrich_pid=$!
"$bin/flowsift-filter" >"$work/logs/filter.log" 2>&1 &
filter_pid=$!
"$bin/flowsift-report" >"$work/logs/report.log" 2>&1 &
report_pid=$!
pids="$pids $enrich_pid $filter_pid $report_pid"
sleep 2
trial_flowsift "$work/captures/v9.pcap" "$pipeline_rate" "pipeline-v9-$pipeline_rate" report
stop_processes "$report_pid"
stop_processes "$filter_pid"
stop_processes "$enrich_pid"
report_pid=""
enrich_pid=""
filter_pid=""
unset FLOWSIFT_KAFKA_TOPIC_RAW FLOWSIFT_ENRICH_GEOIP_CITY FLOWSIFT_ENRICH_GEOIP_ASN FLOWSIFT_ENRICH_PREFIXES
fi

# ---- 4. cost growth -----------------------------------------------------------
note "4. cost growth at $growth_rate flows/s"
want growth && for case in $growth_cases; do
	e=${case%:*}
	t=${case#*:}
	c=$work/captures/growth-$e-$t.pcap
	"$bench" gen --format v9 --flows "$growth_flows" --exporters "$e" --templates "$t" --out "$c" >/dev/null
	line=$("$bench" stage --stage encode --runs "$stage_runs" --min-flows "$stage_min" "$c")
	record "growth name=encode exporters=$e templates=$t $line"
	trial_flowsift "$c" "$growth_rate" "growth-$e-$t"
	if [ "$e" = 10000 ] && [ "$collectors" != flowsift ]; then
		trial_nfacctd "$c" "$growth_rate" "growth-$e-$t"
		trial_nfcapd "$c" "$growth_rate" "growth-$e-$t"
	fi
done
cleanup

# ---- 5. heap allocations ---------------------------------------------------------
if want alloc; then
	note "5. heap allocations per flow of flowsift-ingest under valgrind"
	[ -s "$work/captures/e2e-v9.pcap" ] || "$bench" gen --format v9 --flows "$e2e_flows" \
		--unique-keys --out "$work/captures/e2e-v9.pcap" >/dev/null
	line=$(BENCH_PORT=$port ALLOC_OUT=$work/alloc scripts/bench-alloc.sh \
		"$work/captures/e2e-v9.pcap" | tr '\n' ' ')
	record "alloc $line"
fi
record "machine load_end=$(cut -d' ' -f1 /proc/loadavg)"

BENCH_OUT=$out scripts/bench-console.sh || note "bench-console failed; see its output above"
summarize "$results" >"$summary"
note "results: $results, summary: $summary"
cat "$summary"
