#!/bin/sh
# Checks docker/ against the build without a container engine:
# `docker-compose config` must accept docker/compose.yaml, and every service's
# command, ports, mounted files and settings, and the Dockerfile's packages
# and binaries, must match what `make` produced (scripts/container_checks.py).
# Every worker and the console must have a service, and the build stage must
# install nodejs and npm for the console's page, and the runtime stage netbase
# for the /etc/services of flowsift-enrich.
# Then it checks an altered copy and expects the checks to fail.
#   scripts/check-containers.sh [BUILD_DIR]
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
	echo "check-containers: docker-compose is missing: run scripts/deps.sh" >&2
	exit 1
fi
python3 scripts/container_checks.py compose "$build"

broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp -r docker/. "$broken/"
sed -i 's/127.0.0.1:9104:9104/127.0.0.1:9104:9199/' "$broken/compose.yaml"
sed -i 's/command: \["flowsift-console"\]/command: ["flowsift-report"]/' "$broken/compose.yaml"
sed -i '/^ *nodejs npm \\$/d' "$broken/Dockerfile"
sed -i 's/ fonts-dejavu-core netbase / fonts-dejavu-core /' "$broken/Dockerfile"
if CHECK_DOCKER_DIR="$broken" python3 scripts/container_checks.py compose "$build" >"$broken/out" 2>&1 ||
	! grep -q "TCP 9104, which the container does not expose" "$broken/out" ||
	! grep -q "no service runs flowsift-console" "$broken/out" ||
	! grep -q "build stage lacks nodejs and npm" "$broken/out" ||
	! grep -q "runtime stage lacks netbase" "$broken/out"; then
	cat "$broken/out"
	echo "check-containers: a wrong metrics port, a missing console, missing npm or missing netbase went unnoticed" >&2
	exit 1
fi
echo "check-containers: a wrong metrics port, a missing console service, a build stage without npm and a runtime stage without netbase are detected"
