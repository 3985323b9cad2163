# Where the npm clients of a compatibility test live once scripts/install-test-deps.sh installed
# them: one folder per committed package-lock.json, named after its content, under the user's
# cache (shared by every clone and worktree; a changed lock file gets a fresh folder).
# Sourced by scripts/install-test-deps.sh and tests/compat/require.sh.
#
#   npm_clients_dir tests/compat/couchbase   # → ~/.cache/cbes/npm/couchbase-<hash>
npm_clients_dir() {
  local src=$1 hash
  hash=$(sha256sum "$src/package-lock.json" | cut -c1-16)
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/cbes/npm/$(basename "$src")-$hash"
}
