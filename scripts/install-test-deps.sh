#!/usr/bin/env bash
# Installs the stock npm clients the compatibility tests drive, with `npm ci` from each committed
# tests/compat/**/package-lock.json, into the folder tests/compat/npm_clients.sh names (under
# ~/.cache/cbes/npm, keyed by the lock file's content). Quiet when everything is installed; the
# tests themselves never touch a registry. Called by scripts/install-deps.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/compat/npm_clients.sh
source "$root/tests/compat/npm_clients.sh"

mapfile -t locks < <(find "$root/tests/compat" -name package-lock.json -not -path '*/node_modules/*' | sort)
for lock in "${locks[@]}"; do
  src=$(dirname "$lock")
  dest=$(npm_clients_dir "$src")
  [[ -f "$dest/.installed" ]] && continue
  command -v npm >/dev/null ||
    { echo "error: npm not found: install Node.js and npm (scripts/install-deps.sh does)" >&2; exit 1; }
  echo "installing the npm clients of ${src#"$root"/} into $dest"
  # Install beside the final folder and rename, so an interrupted run leaves nothing half-made
  # that a test would take for installed.
  tmp=$dest.partial.$$
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$src/package.json" "$src/package-lock.json" "$tmp/"
  if ! (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    rm -rf "$tmp"
    echo "error: npm ci failed for ${src#"$root"/} (is the npm registry reachable?)" >&2
    exit 1
  fi
  touch "$tmp/.installed"
  rm -rf "$dest"
  mv "$tmp" "$dest"
done
