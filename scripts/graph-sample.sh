#!/bin/sh
# Draws docs/images/graph-sample.png from generated traffic:
#
#   scripts/graph-sample.sh [BIN_DIR]
#
# flowsift-gentraffic writes one short capture per 5 minutes of a day, with
# more hosts in working hours, and each capture is shifted to its time slot.
# softflowd exports the merged capture as NetFlow v9 (-a keeps the capture's
# times) to a recorder on 127.0.0.1, which writes the datagrams to a raw
# file, and `flowsift graph` draws that file.
set -eu

bin=${1:-build/bin}
out=${GRAPH_SAMPLE_OUT:-docs/images/graph-sample.png}
for prog in softflowd python3; do
	command -v "$prog" >/dev/null 2>&1 || { echo "graph-sample: $prog is not installed; run 'make deps'" >&2; exit 1; }
done
work=$(mktemp -d /tmp/fs-graph-sample-XXXXXX)
recorder_pid=""
cleanup() {
	[ -n "$recorder_pid" ] && kill "$recorder_pid" 2>/dev/null
	[ -n "${GRAPH_SAMPLE_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Yesterday (UTC) in slots 5 minutes apart.
base=$(( $(date +%s) / 86400 * 86400 - 86400 ))
slot=0
while [ $slot -lt 288 ]; do
	hour=$(( slot / 12 ))
	# Few hosts at night, most from 8:00 to 17:00 UTC with a dip at noon.
	case $hour in
	0|1|2|3|4|5) hosts=4 ;;
	6|7) hosts=$(( 8 + slot % 5 )) ;;
	8|9|10|11) hosts=$(( 22 + slot % 7 )) ;;
	12) hosts=$(( 16 + slot % 4 )) ;;
	13|14|15|16) hosts=$(( 30 + slot % 9 )) ;;
	17|18|19) hosts=$(( 14 + slot % 6 )) ;;
	*) hosts=$(( 6 + slot % 3 )) ;;
	esac
	scan=0
	[ $hour -ge 14 ] && [ $hour -le 15 ] && scan=120
	"$bin/flowsift-gentraffic" --out "$work/slot-$slot.pcap" --hosts $hosts \
		--scan-targets $scan --seed $(( slot + 1 )) 2>/dev/null
	slot=$(( slot + 1 ))
done

# Shifts capture k to the middle of its 5-minute bucket, base + k * 300 + 150 s,
# so that rounding in the export cannot move flows into the bucket before.
python3 - "$work" "$base" <<'PY'
import glob, struct, sys
work, base = sys.argv[1], int(sys.argv[2])
with open(f"{work}/day.pcap", "wb") as out:
    for k in range(288):
        data = open(f"{work}/slot-{k}.pcap", "rb").read()
        if k == 0:
            out.write(data[:24])
        pos, first = 24, None
        while pos + 16 <= len(data):
            sec, usec, caplen, length = struct.unpack_from("<IIII", data, pos)
            first = sec if first is None else first
            out.write(struct.pack("<IIII", base + k * 300 + 150 + (sec - first), usec, caplen, length))
            out.write(data[pos + 16:pos + 16 + caplen])
            pos += 16 + caplen
PY

# Writes every datagram it receives to a raw file until 5 s pass without one.
python3 - "$work/gentraffic-day.netflow9" "$work/port" <<'PY' &
import os, socket, sys
out_path, port_file = sys.argv[1], sys.argv[2]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# softflowd -r sends as fast as it reads; a large buffer keeps every datagram.
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
rx.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write(str(rx.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
rx.settimeout(5)
with open(out_path, "wb") as out:
    while True:
        try:
            out.write(rx.recv(65535))
        except socket.timeout:
            break
PY
recorder_pid=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "graph-sample: the recorder did not start" >&2; exit 1; }
	sleep 0.1
done
softflowd -r "$work/day.pcap" -a -v 9 -t maxlife=300 -t udp=60 -t general=60 -n "127.0.0.1:$(cat "$work/port")" >"$work/softflowd.log" 2>&1
wait "$recorder_pid"
recorder_pid=""
"$bin/flowsift" graph --by service --window 24h --top 6 --out "$out" "$work/gentraffic-day.netflow9"
