#!/usr/bin/env bash
# Runs a stock-client compatibility test only when its client is installed, and never installs
# anything (scripts/install-deps.sh does, through scripts/install-test-deps.sh). When the client
# is missing the test fails with a one-line message, or, when the opt-out variable
# CBES_ALLOW_SKIP names the kind (comma-separated, e.g. CBES_ALLOW_SKIP=node,python, or `all`),
# exits 77, which ctest reports as "Skipped" (SKIP_RETURN_CODE) — never as passed.
#
# Usage: require.sh node <folder with package-lock.json> -- <command...>   (exports NODE_PATH)
#        require.sh python <module> -- <command...>                       (Debian's /usr/bin/python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/compat/npm_clients.sh
source "$here/npm_clients.sh"

kind=${1:?usage: require.sh node|python <what> -- <command...>}
what=${2:?usage: require.sh node|python <what> -- <command...>}
[[ ${3:-} == -- ]] || { echo "error: require.sh: expected -- before the command" >&2; exit 2; }
shift 3

missing() {
  if [[ ",${CBES_ALLOW_SKIP:-}," == *",$kind,"* || ",${CBES_ALLOW_SKIP:-}," == *",all,"* ]]; then
    echo "skipped: $1 and CBES_ALLOW_SKIP allows it"
    exit 77
  fi
  echo "error: $1: run scripts/install-deps.sh (or set CBES_ALLOW_SKIP=$kind to skip this test)" >&2
  exit 1
}

case $kind in
  node)
    command -v node >/dev/null || missing "node is not installed"
    modules=$(npm_clients_dir "$what")
    [[ -f "$modules/.installed" ]] ||
      missing "the npm clients of ${what#"$root/"} are not installed in $modules"
    export NODE_PATH=$modules/node_modules
    ;;
  python)
    [[ -x /usr/bin/python3 ]] || missing "/usr/bin/python3 is not installed"
    /usr/bin/python3 -c "import $what" 2>/dev/null ||
      missing "the Python module '$what' is not installed for /usr/bin/python3"
    ;;
  *)
    echo "error: require.sh: unknown kind '$kind' (node or python)" >&2
    exit 2
    ;;
esac
exec "$@"
