#!/bin/sh
# Decodes the NetFlow v5/v9 and IPFIX captures of the corpus with flowsift and
# with two peer collectors from Debian, and reports every flow key whose
# counters differ:
#   - nfdump: each case's captures are replayed over UDP to nfcapd on
#     127.0.0.1 (one sending socket per original exporter address and port,
#     so template scopes stay apart), then read back with `nfdump -o csv`;
#   - pmacct: nfacctd reads each single-file case through pcap_savefile and
#     prints per-key sums with its print plugin.
# Flows are compared summed by (src_addr, dst_addr, src_port, dst_port,
# proto).  docs/decoding.md explains the differences that are intended.
#   scripts/compare-peers.sh [CORPUS_DIR]     (default ../shared/corpus)
# Needs nfdump, pmacct and python3 (installed with apt-get when missing) and
# build/bin/flowsift (`make build/bin/flowsift`).  Not part of `make test`.
set -eu

corpus=${1:-${FLOWSIFT_CORPUS:-../shared/corpus}}
flowsift=${FLOWSIFT_BIN:-build/bin/flowsift}
port=${COMPARE_PORT:-29995}
work=$(mktemp -d /tmp/flowsift-compare.XXXXXX)
nfcapd_pid=""
trap 'test -n "$nfcapd_pid" && kill "$nfcapd_pid" 2>/dev/null; test -n "${KEEP:-}" || rm -rf "$work"' EXIT INT TERM

missing=""
command -v nfcapd >/dev/null 2>&1 || missing="$missing nfdump"
command -v nfacctd >/dev/null 2>&1 || missing="$missing pmacct"
if [ -n "$missing" ]; then
	echo "compare-peers: installing$missing"
	apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x "$flowsift" ]; then
	echo "compare-peers: $flowsift not found; run 'make build/bin/flowsift' first" >&2
	exit 1
fi
if [ ! -d "$corpus" ]; then
	echo "compare-peers: corpus folder $corpus not found; pass it as the first argument" >&2
	exit 1
fi

# Each case: a name, then its capture files in feed order (relative to the corpus).
cases='
v5-akvorado netflow-v5/akvorado/nfv5.pcap
v9-pmacct-101 netflow-v9/pmacct/101-NFv9-CISCO-cust_primitives__traffic-00.pcap
v9-akvorado netflow-v9/akvorado/options-template.pcap netflow-v9/akvorado/options-data.pcap netflow-v9/akvorado/template.pcap netflow-v9/akvorado/data.pcap
v9-akvorado-data-before-template netflow-v9/akvorado/data+templates.pcap
v9-akvorado-icmp netflow-v9/akvorado/icmp-template.pcap netflow-v9/akvorado/icmp-data.pcap
ipfix-pmacct-100 ipfix/pmacct/100-IPFIXv10-CISCO__traffic-00.pcap
ipfix-pmacct-106 ipfix/pmacct/106-IPFIXv10-HUAWEI-vrf_name__traffic-00.pcap
ipfix-pmacct-111 ipfix/pmacct/111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources__traffic-01.pcap
ipfix-akvorado-mpls ipfix/akvorado/mpls.pcap
'

# Sends the UDP payloads of the captures to 127.0.0.1:$port, one socket per exporter.
cat > "$work/replay.py" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
socks = {}
for path in sys.argv[2:]:
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + 'I', data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if linktype != 1 or len(frame) < 14:
            continue
        p, ethertype = 14, struct.unpack('!H', frame[12:14])[0]
        while ethertype in (0x8100, 0x88a8) and len(frame) >= p + 4:
            ethertype = struct.unpack('!H', frame[p + 2:p + 4])[0]
            p += 4
        if ethertype == 0x0800:
            ihl = (frame[p] & 0x0f) * 4
            if frame[p + 9] != 17:
                continue
            src = socket.inet_ntop(socket.AF_INET, frame[p + 12:p + 16])
            p += ihl
        elif ethertype == 0x86dd:
            if frame[p + 6] != 17:
                continue
            src = socket.inet_ntop(socket.AF_INET6, frame[p + 8:p + 24])
            p += 40
        else:
            continue
        sport, _, ulen = struct.unpack('!HHH', frame[p:p + 6])
        payload = frame[p + 8:p + ulen]
        key = (src, sport)
        if key not in socks:
            socks[key] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        socks[key].sendto(payload, ('127.0.0.1', port))
        time.sleep(0.002)
PY
replay() {
	python3 "$work/replay.py" "$port" "$@" < /dev/null
}

# Sums flowsift's JSON lines, nfdump's CSV or pmacct's CSV into "key bytes packets" lines.
cat > "$work/summarise.py" <<'PY'
import csv, ipaddress, json, sys
kind = sys.argv[1]
sums = {}
def norm(a):
    try:
        return str(ipaddress.ip_address(a))
    except ValueError:
        return a
def add(src, dst, sp, dp, pr, b, p):
    k = '%s %s %s %s %s' % (norm(src), norm(dst), int(sp), int(dp), int(pr))
    s = sums.setdefault(k, [0, 0])
    s[0] += int(b); s[1] += int(p)
if kind == 'flowsift':
    for line in sys.stdin:
        f = json.loads(line)
        if f.get('schema') == 'counters':
            continue  # sFlow counter samples carry no flow key
        add(f.get('src_addr', '-'), f.get('dst_addr', '-'), f.get('src_port', 0),
            f.get('dst_port', 0), f.get('proto', 0), f.get('bytes', 0), f.get('packets', 0))
elif kind == 'nfdump':
    rows = csv.reader(sys.stdin)
    head = next(rows, None)
    if head:
        col = {n: i for i, n in enumerate(head)}
        for r in rows:
            if len(r) < len(head) or not r[0][:1].isdigit():
                continue
            pr = r[col['pr']]
            pr = {'TCP': 6, 'UDP': 17, 'ICMP': 1, 'ICMP6': 58}.get(pr, pr)
            add(r[col['sa']], r[col['da']], r[col['sp']], r[col['dp']], pr,
                r[col['ibyt']], r[col['ipkt']])
else:
    rows = csv.reader(sys.stdin)
    head = next(rows, None)
    if head:
        col = {n.strip().upper(): i for i, n in enumerate(head)}
        for r in rows:
            pr = r[col['PROTOCOL']]
            pr = {'tcp': 6, 'udp': 17, 'icmp': 1, 'ipv6-icmp': 58}.get(pr.lower(), pr)
            add(r[col['SRC_IP']], r[col['DST_IP']], r[col['SRC_PORT']], r[col['DST_PORT']],
                pr, r[col['BYTES']], r[col['PACKETS']])
for k in sorted(sums):
    print(k, sums[k][0], sums[k][1])
PY
summarise() {
	python3 "$work/summarise.py" "$1"
}

# Prints the keys whose sums differ between two summaries, and their count.
cat > "$work/compare.py" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p):
        f = line.split()
        d[' '.join(f[:5])] = (int(f[5]), int(f[6]))
    return d
a, b, peer = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
diff = 0
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        diff += 1
        if diff <= 5:
            print('    differs %s: flowsift %s, %s %s' % (k, a.get(k, 'absent'), peer, b.get(k, 'absent')))
if diff > 5:
    print('    ... %d more' % (diff - 5))
print('  %-8s keys flowsift %d, peer %d, differing %d' % (peer, len(a), len(b), diff))
PY
compare() {
	python3 "$work/compare.py" "$1" "$2" "$3" < /dev/null
}

echo "$cases" | while read -r name files; do
	[ -n "$name" ] || continue
	paths=""
	for f in $files; do paths="$paths $corpus/$f"; done
	echo "== $name"
	# shellcheck disable=SC2086
	"$flowsift" decode $paths 2>/dev/null < /dev/null | summarise flowsift > "$work/$name.flowsift"

	rm -rf "$work/nfcapd" && mkdir -p "$work/nfcapd"
	nfcapd -b 127.0.0.1 -p "$port" -w "$work/nfcapd" -t 3600 > "$work/nfcapd.log" 2>&1 < /dev/null &
	nfcapd_pid=$!
	sleep 1
	# shellcheck disable=SC2086
	replay $paths
	sleep 1
	kill "$nfcapd_pid" 2>/dev/null || true
	wait "$nfcapd_pid" 2>/dev/null || true
	nfcapd_pid=""
	nfdump -R "$work/nfcapd" -o csv 2>/dev/null < /dev/null > "$work/$name.nfdump.csv" || true
	summarise nfdump < "$work/$name.nfdump.csv" > "$work/$name.nfdump"
	compare "$work/$name.flowsift" "$work/$name.nfdump" nfdump

	set -- $files
	if [ $# -eq 1 ]; then
		cat > "$work/nfacctd.conf" <<CONF
daemonize: false
pcap_savefile: $corpus/$1
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $work/$name.pmacct.csv
print_refresh_time: 1
nfacctd_time_new: true
CONF
		timeout 20 nfacctd -f "$work/nfacctd.conf" > "$work/nfacctd.log" 2>&1 < /dev/null || true
		summarise pmacct < "$work/$name.pmacct.csv" > "$work/$name.pmacct" 2>/dev/null || : > "$work/$name.pmacct"
		compare "$work/$name.flowsift" "$work/$name.pmacct" pmacct
	else
		echo "  pmacct   skipped: nfacctd reads one pcap_savefile, this case needs $# in order"
	fi
done
