#!/bin/sh
# Validates deploy/ offline: renders the kustomize base and every overlay,
# validates each object against the Kubernetes schemas of the npm package
# kubernetes-models (installed by scripts/deps.sh into build/k8s-validate),
# and checks every container's command, ports, probes, settings and security
# context against the build (scripts/container_checks.py).  Then it checks an
# altered copy and expects the checks to fail.
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
if CHECK_DEPLOY_DIR="$broken" python3 scripts/container_checks.py deploy "$build" "$modules" >"$broken/out" 2>&1 ||
	! grep -q "containerPort must be integer" "$broken/out" ||
	! grep -q "readinessProbe must be httpGet /readyz" "$broken/out" ||
	! grep -q "listens on TCP 4739, which the container does not expose" "$broken/out" ||
	! grep -q "exposes flowsift-console as type NodePort" "$broken/out"; then
	cat "$broken/out"
	echo "check-deploy: an invalid manifest went unnoticed" >&2
	exit 1
fi
echo "check-deploy: an invalid manifest, a wrong probe, a missing IPFIX TCP port and an exposed console are detected"
