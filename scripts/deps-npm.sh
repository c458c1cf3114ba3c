#!/bin/sh
# Installs the npm packages of deploy/validator (the Kubernetes schemas that
# scripts/check-deploy.sh validates against) into build/k8s-validate, at the
# versions of its package-lock.json, when they are missing.  Installs Debian's
# nodejs and npm first when npm is missing.  Called by scripts/deps.sh
# (except for make run and make demo), so `make test` itself downloads
# nothing.
set -eu
cd "$(dirname "$0")/.."
target=build/k8s-validate
if [ -d "$target/node_modules/kubernetes-models" ] &&
	cmp -s deploy/validator/package-lock.json "$target/package-lock.json"; then
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "deps: installing Debian packages nodejs npm"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
echo "deps: installing the npm packages of deploy/validator into $target"
mkdir -p "$target"
cp deploy/validator/package.json deploy/validator/package-lock.json "$target/"
(cd "$target" && npm ci --no-audit --no-fund --loglevel=error)
