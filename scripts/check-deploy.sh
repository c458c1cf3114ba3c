#!/bin/sh
# Validates deploy/ offline: renders the kustomize base and every overlay,
# validates each object against the Kubernetes schemas of the npm package
# kubernetes-models (installed by scripts/deps.sh into build/k8s-validate),
# and checks every container's command, ports, probes, settings and security
# context against the build (scripts/container_checks.py), where the files
# that enrich and filter reload are mounted, and how report and the console
# get the Redis password.  Then it checks an altered copy and expects the
# checks to fail.
#   scripts/check-deploy.sh [BUILD_DIR]
set -eu
build=${1:-build}
cd "$(dirname "$0")/.."
modules=build/k8s-validate/node_modules
if [ ! -d "$modules/kubernetes-models" ]; then
	echo "check-deploy: $modules/kubernetes-models is missing: run scripts/deps.sh" >&2
	exit 1
fi
python3 scripts/container_checks.py deploy "$build" "$modules"

broken=$(mktemp -d)
trap 'rm -rf "$broken"' EXIT
cp -r deploy/. "$broken/"
sed -i 's|path: /readyz|path: /ready|; s|containerPort: 9102,|containerPort: "9102",|' "$broken/base/enrich.yaml"
sed -i '/name: ipfix-tcp, containerPort: 4739/d' "$broken/base/ingest.yaml"
sed -i 's/type: ClusterIP/type: NodePort/' "$broken/base/console.yaml"
# The Redis password inside the URL, and only for report.
sed -i 's/name: FLOWSIFT_REDIS_PASSWORD$/name: FLOWSIFT_REDIS_URL/' "$broken/base/report.yaml"
# The prefix list as a subPath mount, the GeoIP volume written by no init
# container, and a sidecar image without a tag.
sed -i 's|{name: enrich-files, mountPath: /etc/flowsift-enrich, readOnly: true}|{name: enrich-files, mountPath: /etc/flowsift-enrich/prefixes, subPath: prefixes, readOnly: true}|' \
	"$broken/overlays/example/enrich.yaml"
sed -i 's|{name: geoip, mountPath: /usr/share/GeoIP}|{name: geoip, mountPath: /usr/share/GeoIP, readOnly: true}|' \
	"$broken/overlays/example/enrich.yaml"
sed -i 's|image: ghcr.io/maxmind/geoipupdate:[^ ]*$|image: ghcr.io/maxmind/geoipupdate|' "$broken/overlays/example/enrich.yaml"
if CHECK_DEPLOY_DIR="$broken" python3 scripts/container_checks.py deploy "$build" "$modules" >"$broken/out" 2>&1 ||
	! grep -q "containerPort must be integer" "$broken/out" ||
	! grep -q "readinessProbe must be httpGet /readyz" "$broken/out" ||
	! grep -q "listens on TCP 4739, which the container does not expose" "$broken/out" ||
	! grep -q "exposes flowsift-console as type NodePort" "$broken/out" ||
	! grep -q "FLOWSIFT_REDIS_URL carries the Redis password" "$broken/out" ||
	! grep -q "get the Redis password in different ways" "$broken/out" ||
	! grep -q "enrich.prefixes = /etc/flowsift-enrich/prefixes is in volume enrich-files mounted with subPath" "$broken/out" ||
	! grep -q "enrich.interfaces.map = /etc/flowsift-enrich/interfaces.map is in no volume" "$broken/out" ||
	! grep -q "is in emptyDir geoip, which no init container writes" "$broken/out" ||
	! grep -q "image ghcr.io/maxmind/geoipupdate has no pinned tag" "$broken/out"; then
	cat "$broken/out"
	echo "check-deploy: an invalid manifest went unnoticed" >&2
	exit 1
fi
echo "check-deploy: an invalid manifest, a wrong probe, a missing IPFIX TCP port, an exposed console,"
echo "check-deploy: a Redis password in the URL, enrich files that would not update and an unpinned sidecar are detected"
