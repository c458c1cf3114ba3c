#!/bin/sh
# Bundles the console's web page (web/) into build/web/: installs the npm
# packages of web/package-lock.json into web/node_modules when they are
# missing or out of date (this needs the npm registry), then runs esbuild.
# Installs Debian's nodejs and npm first when npm is missing.
set -eu
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
	scripts/deps-npm.sh
fi
if [ ! -f web/node_modules/.package-lock.json ] ||
	! cmp -s web/package-lock.json web/node_modules/.flowsift-lock; then
	echo "web: installing the npm packages of web/package-lock.json"
	(cd web && npm ci --no-audit --no-fund --loglevel=error)
	cp web/package-lock.json web/node_modules/.flowsift-lock
fi
node web/build.mjs build/web
