#!/bin/sh
# Compares the flows that `flowsift print -f EXPR` selects with those that
# nfdump selects with the equivalent nfdump filter, on the same datagrams.
#
#   scripts/compare-nfdump-filters.sh [BIN_DIR]
#
# A synthetic capture (flowsift-gentraffic) is exported as NetFlow v9 by
# softflowd to a relay on 127.0.0.1, which records every datagram in a pcap
# file and forwards it to nfcapd.  Then, for each pair of filters below, the
# flows nfdump reads back from nfcapd's file and the flows flowsift reads
# from the pcap are compared as sorted lists of (src addr, dst addr, src
# port, dst port, protocol, packets, bytes).
#
# Exit status: 0 when every pair selects the same flows, 1 when some differ
# or a step fails, 77 when nfdump, nfcapd, softflowd or python3 is missing.
set -u

bin=${1:-${FSTEST_BIN_DIR:-build/bin}}
case $bin in /*) ;; *) bin="$(pwd)/$bin" ;; esac

for tool in nfdump nfcapd softflowd python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "compare-nfdump-filters: $tool is not installed (Debian packages nfdump, softflowd, python3); skipped"
		exit 77
	fi
done
for prog in flowsift flowsift-gentraffic; do
	if [ ! -x "$bin/$prog" ]; then
		echo "compare-nfdump-filters: $bin/$prog is missing; run 'make' first" >&2
		exit 1
	fi
done

# flowsift expression | nfdump expression
FILTERS='any|any
proto tcp|proto tcp
proto udp|proto udp
not proto tcp|not proto tcp
proto icmp|proto icmp
dst port 445|dst port 445
src port 53|src port 53
port 53|port 53
port in [25 80 443]|port in [25 80 443]
host 8.8.8.8|host 8.8.8.8
src host 10.1.66.6|src host 10.1.66.6
dst net 172.16.0.0/16|dst net 172.16.0.0/16
net 10.1.0.0/24|net 10.1.0.0/24
not net 10.1.0.0/24|not net 10.1.0.0/24
src net 10.1.0.0/16 and dst port 443|src net 10.1.0.0/16 and dst port 443
not (port 53 or port 445)|not (port 53 or port 445)
dst host 192.0.2.25 and not flags R|dst host 192.0.2.25 and not flags R
flags S and not flags A|flags S and not flags A
tcp flags = S|proto tcp and flags S and not flags AFRPU
flags A|flags A
flags AP|flags AP
bytes > 1000|bytes > 1000
bytes < 200|bytes < 200
packets >= 5|packets > 4
dst port 1024-65535|dst port > 1023
src port > 1023 and proto tcp|src port > 1023 and proto tcp
(proto udp and port 53) or dst port 445|(proto udp and port 53) or dst port 445
duration > 400|duration > 400
bpp > 100|bpp > 100
tos 0|tos 0
net 10.1.0.0 255.255.255.0|net 10.1.0.0 255.255.255.0
src net 10.1.0.0 255.255.0.0 and not dst net 172.16.0.0 255.240.0.0|src net 10.1.0.0 255.255.0.0 and not dst net 172.16.0.0 255.240.0.0
src net 10.1.0/24|src net 10.1.0/24
dst net 172.16/12|dst net 172.16/12
net 10.1/16|net 10.1/16'

work=$(mktemp -d /tmp/fs-nfcmp-XXXXXX)
relay_pid=""
nfcapd_pid=""
cleanup() {
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
	[ -n "$nfcapd_pid" ] && kill "$nfcapd_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

fail() {
	echo "compare-nfdump-filters: $*" >&2
	exit 1
}

# Records each datagram it receives in a raw-IP pcap file and forwards it.
cat > "$work/relay.py" <<'PY'
import socket, struct, sys, time
out_path, port_file, target_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
with open(port_file + ".tmp", "w") as f:
    f.write(str(rx.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)
rx.settimeout(60)
with open(out_path, "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    while True:
        try:
            data, (addr, sport) = rx.recvfrom(65535)
        except socket.timeout:
            break
        udp = struct.pack("!HHHH", sport, rx.getsockname()[1], 8 + len(data), 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(data), 0, 0, 64, 17, 0,
                         socket.inet_aton(addr), socket.inet_aton("127.0.0.1"))
        now = time.time()
        frame = ip + udp + data
        out.write(struct.pack("<IIII", int(now), int((now % 1) * 1e6), len(frame), len(frame)))
        out.write(frame)
        out.flush()
        tx.sendto(data, ("127.0.0.1", target_port))
PY

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

"$bin/flowsift-gentraffic" --out "$work/traffic.pcap" --hosts 40 --scan-targets 100 >/dev/null 2>&1 ||
	fail "flowsift-gentraffic failed"

mkdir "$work/flows"
nfcapd_port=$(free_port)
nfcapd -w "$work/flows" -p "$nfcapd_port" -b 127.0.0.1 -t 3600 >"$work/nfcapd.log" 2>&1 &
nfcapd_pid=$!
python3 "$work/relay.py" "$work/export.pcap" "$work/relay.port" "$nfcapd_port" &
relay_pid=$!
i=0
while [ ! -s "$work/relay.port" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fail "the relay did not start"
	sleep 0.1
done
sleep 0.5

# softflowd 1.1.0 hangs after -r when its control socket path is long, so
# it runs in the work folder with short relative paths.
(cd "$work" && softflowd -r traffic.pcap -n "127.0.0.1:$(cat relay.port)" -v 9 \
	-c sf.ctl -p sf.pid -d >softflowd.log 2>&1) || fail "softflowd failed; see its log"
sleep 2
kill "$relay_pid" 2>/dev/null
wait "$relay_pid" 2>/dev/null
relay_pid=""
# nfcapd writes its last file when it stops.
kill "$nfcapd_pid"
wait "$nfcapd_pid" 2>/dev/null
nfcapd_pid=""
nffile=$(ls "$work"/flows/nfcapd.* 2>/dev/null | grep -v current | head -1)
[ -n "$nffile" ] || fail "nfcapd wrote no file: $(cat "$work/nfcapd.log")"

# softflowd 1.1.0 replaying a capture can export a flow whose first-switched
# uptime stamp lies before the header's sysUptime of 0, as 2^32 minus the
# milliseconds (seen: first 4294966275, last 0, sysUptime 0).  flowsift reads
# uptime stamps modulo 2^32, because RFC 3954 counters wrap, and places the
# flow 1,021 ms before the export.  nfdump 1.7.1 leaves both its times at the
# epoch, so its duration is 0.  Those flows are left out of the comparisons
# that depend on time.
nfdump -r "$nffile" -q -o csv 'any' 2>/dev/null |
	awk -F, '/^19(69-12-31|70-01-01)/ { printf "%s,%s,%s,%s,%s,%s,%s\n", $4, $5, $6, $7, $8, $12, $13 }' |
	sort >"$work/untimed.csv"
if [ -s "$work/untimed.csv" ]; then
	echo "note: $(wc -l <"$work/untimed.csv") flows with wrapped uptime stamps, which nfdump leaves at the epoch, are left out of duration, bps and pps"
fi

echo "flows selected by each filter (flowsift / nfdump):"
echo "$FILTERS" | while IFS='|' read -r fs_expr nf_expr; do
	"$bin/flowsift" print --config /dev/null --format csv --no-header \
		--fields src_addr,dst_addr,src_port,dst_port,proto,packets,bytes \
		-f "$fs_expr" "$work/export.pcap" 2>"$work/fs.err" | sort >"$work/fs.csv" ||
		{ echo "flowsift print failed on '$fs_expr': $(cat "$work/fs.err")"; echo x >>"$work/failed"; continue; }
	nfdump -r "$nffile" -q -o csv "$nf_expr" 2>"$work/nf.err" |
		awk -F, '/^[0-9][0-9][0-9][0-9]-/ { printf "%s,%s,%s,%s,%s,%s,%s\n", $4, $5, $6, $7, $8, $12, $13 }' |
		sort >"$work/nf.csv"
	case $fs_expr in
	*duration* | *bps* | *pps*)
		for side in fs nf; do
			comm -23 "$work/$side.csv" "$work/untimed.csv" >"$work/$side.timed"
			mv "$work/$side.timed" "$work/$side.csv"
		done
		;;
	esac
	n_fs=$(wc -l <"$work/fs.csv")
	n_nf=$(wc -l <"$work/nf.csv")
	if cmp -s "$work/fs.csv" "$work/nf.csv"; then
		printf '  same       %5d / %5d  %s  |  %s\n' "$n_fs" "$n_nf" "$fs_expr" "$nf_expr"
	else
		printf '  DIFFERENT  %5d / %5d  %s  |  %s\n' "$n_fs" "$n_nf" "$fs_expr" "$nf_expr"
		diff "$work/fs.csv" "$work/nf.csv" | head -10 | sed 's/^/      /'
		echo x >>"$work/failed"
	fi
done
n_filters=$(echo "$FILTERS" | wc -l)
if [ -s "$work/failed" ]; then
	echo "compare-nfdump-filters: $(wc -l <"$work/failed") of $n_filters filters select different flows"
	exit 1
fi
echo "compare-nfdump-filters: all $n_filters filters select the same flows in both tools"
