#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, with
# AddressSanitizer and UndefinedBehaviorSanitizer) and runs each for N seconds
# on its seed folder tests/fuzz/corpus/<name>/.  New inputs libFuzzer finds go
# to build/fuzz/corpus/<name>/, crash inputs to build/fuzz/crashes/<name>/;
# the seed folders are never written.
#   scripts/fuzz.sh [SECONDS]     (default 30)
# With FUZZ_RUNS=N each target instead runs N inputs from a fixed seed, so a
# CI run is bounded and repeatable.  That mode leaves leak checking to the
# sanitizer replays of `make test`: avro-c allocates caches on first use,
# which libFuzzer's per-input leak check reports as leaks.
# Exits 1 when a target fails to build or finds a crash.
set -u
seconds=${1:-30}
out=build/fuzz
cc=${FUZZ_CC:-clang}
# The same libraries as the Makefile links.
pkgs=$(sed -n "s/^PKGS *:= *//p" Makefile)

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found; install clang (libFuzzer ships with it)" >&2
	exit 1
fi

pkg_cflags=$(pkg-config --cflags $pkgs 2>/dev/null)
pkg_libs=$(pkg-config --libs $pkgs 2>/dev/null)
sources=$(find pkg -name '*.c' | sort)
gen=$out/gen/schemas_embedded.c
mkdir -p "$out/gen"
if [ -x scripts/embed-schemas.sh ] && [ -d schemas ]; then
	scripts/embed-schemas.sh schemas "$gen" >/dev/null && sources="$sources $gen"
fi

failed=""
for src in tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	bin=$out/$name
	seeds=tests/fuzz/corpus/$name
	work=$out/corpus/$name
	crashes=$out/crashes/$name
	mkdir -p "$work" "$crashes" "$seeds"

	echo "== building $name"
	# shellcheck disable=SC2086
	if ! "$cc" -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE \
		-Ipkg -I"$out/gen" $pkg_cflags "$src" $sources \
		$pkg_libs -lpthread -lm -o "$bin"; then
		failed="$failed $name(build)"
		continue
	fi

	if [ -n "${FUZZ_RUNS:-}" ]; then
		echo "== running $name for $FUZZ_RUNS inputs"
		limit="-runs=$FUZZ_RUNS -seed=1 -detect_leaks=0"
		export ASAN_OPTIONS=detect_leaks=0
	else
		echo "== running $name for ${seconds}s"
		limit="-max_total_time=$seconds"
	fi
	# shellcheck disable=SC2086
	if ! "$bin" $limit -print_final_stats=1 \
		-artifact_prefix="$crashes/" "$work" "$seeds"; then
		failed="$failed $name"
	fi
done

if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed (inputs in $out/crashes/)" >&2
	exit 1
fi
if [ -n "${FUZZ_RUNS:-}" ]; then
	echo "fuzz: no crash in $FUZZ_RUNS inputs per target"
else
	echo "fuzz: no crash in ${seconds}s per target"
fi
