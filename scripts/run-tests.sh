#!/bin/sh
# Runs every test binary of one build folder from the repository root and
# prints a summary; exits 1 when any test fails.
#   scripts/run-tests.sh BUILD_DIR
set -u
build=${1:-build}
export FSTEST_BIN_DIR="$build/bin"
export FLOWSIFT_CORPUS="${FLOWSIFT_CORPUS:-../shared/corpus}"
if [ ! -d "$FLOWSIFT_CORPUS" ]; then
	echo "note: corpus folder '$FLOWSIFT_CORPUS' is absent; corpus tests will be skipped"
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}"

failed=""
count=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	count=$((count + 1))
	echo "== $t"
	if ! "$t"; then
		failed="$failed $(basename "$t")"
	fi
done

# Fuzz targets replay their seed and regression inputs plus the corpus captures.
for r in "$build"/fuzz/*-replay; do
	[ -x "$r" ] || continue
	name=$(basename "$r" -replay)
	count=$((count + 1))
	echo "== $r"
	inputs="tests/fuzz/corpus/$name"
	[ -d "$FLOWSIFT_CORPUS" ] && inputs="$inputs $FLOWSIFT_CORPUS"
	# shellcheck disable=SC2086
	if ! "$r" $inputs; then
		failed="$failed $name"
	fi
done

# docs/CONFIGURATION.md must list what `flowsift config docs` generates.
count=$((count + 1))
echo "== docs/CONFIGURATION.md matches flowsift config docs"
generated=$(mktemp)
"$build/bin/flowsift" config docs >"$generated"
if ! sed -n '/^| key /,$p' docs/CONFIGURATION.md | diff -u "$generated" -; then
	echo "docs/CONFIGURATION.md is out of date: regenerate its table with 'flowsift config docs'"
	failed="$failed CONFIGURATION.md"
fi
rm -f "$generated"

# docker/ and deploy/ must match the binaries, ports and settings of this build.
# The sanitizer build links libasan and libubsan, which no image ships, so the
# checks run against the plain build only.
checks="check-containers check-deploy"
case "$build" in
*asan*) checks="" ;;
esac
for check in $checks; do
	count=$((count + 1))
	echo "== scripts/$check.sh"
	if ! "scripts/$check.sh" "$build"; then
		failed="$failed $check"
	fi
done

# The web console in Chromium against the demo pipeline; the plain build
# only, like the checks above (tests/browser/run.sh).
case "$build" in
*asan*) ;;
*)
	count=$((count + 1))
	echo "== tests/browser/run.sh"
	if ! tests/browser/run.sh "$build"; then
		failed="$failed browser"
	fi
	;;
esac

if [ -n "$failed" ]; then
	echo "FAILED ($build):$failed"
	exit 1
fi
echo "all $count test programs passed ($build)"
