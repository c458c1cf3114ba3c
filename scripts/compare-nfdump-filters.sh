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
# A second capture of ICMP packets is exported twice: as NetFlow v5, which
# carries the ICMP type and code only in the destination port, and as
# NetFlow v9.  Each export is compared in the same way for the ICMP filters,
# but without the ports, because flowsift shows no ports for an ICMP flow
# with ICMP type fields while nfdump shows type.code as the destination port.
# It has no ICMPv6 packets: softflowd 1.1.0 exports their type in v9
# element 139, which nfdump 1.7.1 does not read, so nfdump reports type 0.
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

# The same, on the ICMP capture.
ICMP_FILTERS='any|any
proto icmp|proto icmp
icmp-type 8|icmp-type 8
icmp-type 0|icmp-type 0
icmp-code 3|icmp-code 3
icmp-code 0|icmp-code 0
icmp-type 3 and icmp-code 1|icmp-type 3 and icmp-code 1
not icmp-type 8|not icmp-type 8'

# The fields compared, as flowsift print --fields and as the columns of
# nfdump 1.7.1's `-o csv` for awk.
FIELDS=src_addr,dst_addr,src_port,dst_port,proto,packets,bytes
NF_COLUMNS='$4, $5, $6, $7, $8, $12, $13'
ICMP_FIELDS=src_addr,dst_addr,proto,packets,bytes
ICMP_NF_COLUMNS='$4, $5, $8, $12, $13'

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

# Writes an Ethernet pcap with one packet per flow: ICMP of several types
# and codes, and UDP to port 2048 (8 * 256), which no ICMP filter may select.
cat > "$work/icmp.py" <<'PY'
import socket, struct, sys
def checksum(header):
    s = sum(struct.unpack("!10H", header))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
def ether(ethertype):
    return bytes.fromhex("001122334455" "00667788994a") + struct.pack("!H", ethertype)
def ipv4(src, dst, proto, payload):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ether(0x0800) + ip + payload
def icmp(icmp_type, code):
    return struct.pack("!BBHHH", icmp_type, code, 0, 1, 1) + b"flowsift"
frames = [
    ipv4("10.0.0.1", "10.0.0.2", 1, icmp(8, 0)),
    ipv4("10.0.0.2", "10.0.0.1", 1, icmp(0, 0)),
    ipv4("10.0.0.3", "10.0.0.1", 1, icmp(3, 3)),
    ipv4("10.0.0.4", "10.0.0.1", 1, icmp(3, 1)),
    ipv4("10.0.0.5", "10.0.0.1", 1, icmp(11, 0)),
    ipv4("10.0.0.6", "10.0.0.1", 1, icmp(8, 1)),
    ipv4("10.0.0.7", "10.0.0.8", 17, struct.pack("!HHHH", 1234, 2048, 8, 0)),
]
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, frame in enumerate(frames):
        out.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)))
        out.write(frame)
PY

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Exports the packet capture $3 (in the work folder) with softflowd as
# NetFlow version $2, through the relay, which records the datagrams in
# $1.pcap, into nfcapd, which writes into the folder $1.  Sets nffile to
# the file nfcapd wrote.
replay() {
	mkdir "$work/$1"
	nfcapd_port=$(free_port)
	nfcapd -w "$work/$1" -p "$nfcapd_port" -b 127.0.0.1 -t 3600 >"$work/$1.nfcapd.log" 2>&1 &
	nfcapd_pid=$!
	rm -f "$work/relay.port"
	python3 "$work/relay.py" "$work/$1.pcap" "$work/relay.port" "$nfcapd_port" &
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
	(cd "$work" && softflowd -r "$3" -n "127.0.0.1:$(cat relay.port)" -v "$2" \
		-c sf.ctl -p sf.pid -d >"$1.softflowd.log" 2>&1) ||
		fail "softflowd failed; see its log"
	sleep 2
	kill "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
	relay_pid=""
	# nfcapd writes its last file when it stops.
	kill "$nfcapd_pid"
	wait "$nfcapd_pid" 2>/dev/null
	nfcapd_pid=""
	nffile=$(ls "$work/$1"/nfcapd.* 2>/dev/null | grep -v current | head -1)
	[ -n "$nffile" ] || fail "nfcapd wrote no file: $(cat "$work/$1.nfcapd.log")"
}

"$bin/flowsift-gentraffic" --out "$work/traffic.pcap" --hosts 40 --scan-targets 100 >/dev/null 2>&1 ||
	fail "flowsift-gentraffic failed"
python3 "$work/icmp.py" "$work/icmp.pcap" || fail "the ICMP capture could not be written"
replay icmp5 5 icmp.pcap
icmp5_nffile=$nffile
replay icmp9 9 icmp.pcap
icmp9_nffile=$nffile
replay export 9 traffic.pcap

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

# Compares, for each line "flowsift expression|nfdump expression" of $1,
# the flows flowsift selects in the export $2.pcap with those nfdump
# selects in the nfcapd file $3, as the fields $4 and the nfdump columns $5.
# Records each difference as a line of $work/failed.
compare() {
	echo "$1" | while IFS='|' read -r fs_expr nf_expr; do
		"$bin/flowsift" print --config /dev/null --format csv --no-header --fields "$4" \
			-f "$fs_expr" "$work/$2.pcap" 2>"$work/fs.err" | sort >"$work/fs.csv" ||
			{ echo "flowsift print failed on '$fs_expr': $(cat "$work/fs.err")"; echo x >>"$work/failed"; continue; }
		nfdump -r "$3" -q -o csv "$nf_expr" 2>"$work/nf.err" |
			awk -F, -v OFS=, "/^[0-9][0-9][0-9][0-9]-/ { print $5 }" |
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
}

echo "flows selected by each filter (flowsift / nfdump):"
compare "$FILTERS" export "$nffile" "$FIELDS" "$NF_COLUMNS"
echo "ICMP flows exported as NetFlow v5:"
compare "$ICMP_FILTERS" icmp5 "$icmp5_nffile" "$ICMP_FIELDS" "$ICMP_NF_COLUMNS"
echo "ICMP flows exported as NetFlow v9:"
compare "$ICMP_FILTERS" icmp9 "$icmp9_nffile" "$ICMP_FIELDS" "$ICMP_NF_COLUMNS"
n_filters=$(( $(echo "$FILTERS" | wc -l) + 2 * $(echo "$ICMP_FILTERS" | wc -l) ))
if [ -s "$work/failed" ]; then
	echo "compare-nfdump-filters: $(wc -l <"$work/failed") of $n_filters filters select different flows"
	exit 1
fi
echo "compare-nfdump-filters: all $n_filters filters select the same flows in both tools"
