#!/bin/sh
# Benchmark of flowsift-console's first page with at least 10,000 hosts in
# the counters.  It fills a private redis-server through the top-N writer:
# `flowsift-bench stage --stage topn-redis` over a generated capture whose
# 25,000 flows have about 12,000 distinct destination addresses.  It starts
# flowsift-console on a free loopback port, and times in Chromium
# (playwright-core) how long the top talkers page by destination address
# takes from navigation to its filled table: HTML, assets and the API call.
# Each load uses a fresh browser context, so nothing is cached.
#
#   scripts/bench-console.sh        (make bench calls it from scripts/bench.sh)
#
# Prints the median and maximum time and appends them to
# BENCH_OUT/results.txt (default build/bench) as the line
# "console hosts=N first_page_ms_median=MS first_page_ms_max=MS loads=N".  Not a test: the figure
# depends on the machine and its load.
set -eu
cd "$(dirname "$0")/.."
bin=build/bin
out=${BENCH_OUT:-build/bench}
flows=${BENCH_CONSOLE_FLOWS:-25000}
loads=${BENCH_CONSOLE_LOADS:-7}
chromium=${CHROMIUM:-/usr/bin/chromium}
mkdir -p "$out"
work=$(mktemp -d /tmp/flowsift-bench-console.XXXXXX)
redis_pid=""
console_pid=""
cleanup() {
	[ -n "$console_pid" ] && kill -TERM "$console_pid" 2>/dev/null && wait "$console_pid" 2>/dev/null
	[ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
	--dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
i=0
until redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "bench-console: redis-server did not start" >&2; exit 1; }
	sleep 0.1
done
url=redis://127.0.0.1:$redis_port

"$bin/flowsift-bench" gen --format v9 --unique-keys --flows "$flows" --out "$work/hosts.pcap" >/dev/null
"$bin/flowsift-bench" stage --stage topn-redis --redis "$url" --runs 1 --min-flows "$flows" \
	"$work/hosts.pcap" >/dev/null
# The writer fills 10 s buckets; the flows may span two of them, so count
# the destinations of their union.
keys=$(redis-cli -h 127.0.0.1 -p "$redis_port" --scan --pattern 'flowsift:top:dst_addr:bytes:10s:*')
if [ -z "$keys" ]; then
	echo "bench-console: the top-N writer left no 10 s bucket of destination addresses" >&2
	exit 1
fi
# shellcheck disable=SC2086
redis-cli -h 127.0.0.1 -p "$redis_port" zunionstore bench:hosts $(echo "$keys" | wc -l) $keys >/dev/null
members=$(redis-cli -h 127.0.0.1 -p "$redis_port" zcard bench:hosts)
echo "bench-console: $members destination addresses in the counters"
if [ "$members" -lt 10000 ]; then
	echo "bench-console: fewer than 10,000 hosts; raise BENCH_CONSOLE_FLOWS" >&2
	exit 1
fi

console_port=$(free_port)
FLOWSIFT_REDIS_URL=$url FLOWSIFT_CONSOLE_LISTEN=127.0.0.1:$console_port \
	FLOWSIFT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1 FLOWSIFT_RUN_DIR=$work \
	"$bin/flowsift-console" >"$work/console.log" 2>&1 &
console_pid=$!
i=0
until curl -sf "http://127.0.0.1:$console_port/healthz" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "bench-console: flowsift-console did not start" >&2; cat "$work/console.log" >&2; exit 1; }
	sleep 0.1
done

result=$(CHROMIUM=$chromium node -e '
const { chromium } = require(process.cwd() + "/web/node_modules/playwright-core");
(async () => {
  const [url, loads] = process.argv.slice(1);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const times = [];
  for (let i = 0; i < Number(loads); i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const start = Date.now();
    await page.goto(url + "#top?dim=dst_addr");
    await page.waitForSelector("#top-table tbody tr", { timeout: 30000 });
    times.push(Date.now() - start);
    const rows = await page.$$eval("#top-table tbody tr", (r) => r.length);
    if (rows !== 20) throw new Error(`expected 20 rows, got ${rows}`);
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  console.log(`${times[Math.floor(times.length / 2)]} ${times[times.length - 1]} ${times.join(",")}`);
})().catch((err) => { console.error(err.message); process.exit(1); });
' "http://127.0.0.1:$console_port/" "$loads")
set -- $result
echo "bench-console: first page with $members hosts: median $1 ms, max $2 ms over $loads loads ($3)"
echo "console hosts=$members first_page_ms_median=$1 first_page_ms_max=$2 loads=$loads" >>"$out/results.txt"
