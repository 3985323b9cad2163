#!/usr/bin/env bash
# Installs the pinned npm clients (package-lock.json) into <prefix> for the compat tests.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
prefix=$1
mkdir -p "$prefix"
cp "$src/package.json" "$src/package-lock.json" "$prefix/"
cd "$prefix"
if ! npm ci --no-audit --no-fund --loglevel=error; then
  echo "error: npm could not install the compat clients from the npm registry (is it reachable?)" >&2
  exit 1
fi
