#!/usr/bin/python3
"""Check one flowsift Avro message with the Apache Avro Python library.

Usage: /usr/bin/python3 tests/avro_crosscheck.py SCHEMA.avsc MESSAGE.bin

MESSAGE.bin contains one Avro single-object encoded datum: the marker C3 01, the
little-endian CRC-64-AVRO fingerprint of the writer schema, then the binary
body.  The script checks the marker, compares the fingerprint with one computed
here from the library's own Parsing Canonical Form, decodes the body with
avro.io.DatumReader and prints one JSON object on stdout:

    {"fingerprint": "<16 hex digits>", "canonical_form": "...", "datum": {...}}

Bytes values are printed as lowercase hex strings.  Exit status: 0 on success,
1 when the message does not match the schema, 77 when the avro package cannot
be imported (the caller skips its check).
"""

import io
import json
import sys

try:
    import avro.io
    import avro.schema
except ImportError as exc:
    print(f"avro_crosscheck: cannot import avro ({exc}); install python3-avro", file=sys.stderr)
    sys.exit(77)

MARKER = b"\xc3\x01"
CRC64_EMPTY = 0xC15D213AA4D7A795


def crc64_avro(data):
    """Return the CRC-64-AVRO (Rabin) fingerprint of data, as the Avro spec defines it."""
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    fp = CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def to_json(value):
    """Return value with bytes turned into hex strings so json can print it."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return value


def main(argv):
    if len(argv) != 3:
        print("usage: avro_crosscheck.py SCHEMA.avsc MESSAGE.bin", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as schema_file:
        schema = avro.schema.parse(schema_file.read())
    with open(argv[2], "rb") as message_file:
        message = message_file.read()

    if message[:2] != MARKER:
        print(f"avro_crosscheck: marker is {message[:2].hex()}, expected c301", file=sys.stderr)
        return 1
    if len(message) < 10:
        print(f"avro_crosscheck: message of {len(message)} bytes has no fingerprint", file=sys.stderr)
        return 1

    canonical = schema.canonical_form
    expected = crc64_avro(canonical.encode("utf-8"))
    found = int.from_bytes(message[2:10], "little")
    if found != expected:
        print(f"avro_crosscheck: fingerprint {found:016x} in message, "
              f"{expected:016x} from python-avro's canonical form", file=sys.stderr)
        return 1

    body = io.BytesIO(message[10:])
    datum = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(body))
    left = len(message) - 10 - body.tell()
    if left != 0:
        print(f"avro_crosscheck: {left} bytes left after the datum", file=sys.stderr)
        return 1

    json.dump({"fingerprint": f"{found:016x}", "canonical_form": canonical,
               "datum": to_json(datum)}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
