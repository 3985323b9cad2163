#!/usr/bin/env bash
# Installs the Debian 12 packages cbes builds with, only those that are missing, then the test
# tools that do not come from Debian (scripts/install-test-deps.sh, when present); quiet when
# everything is there. Needs root (or sudo) only when something must be installed.
#
#   scripts/install-deps.sh               what the build and every test need (./test.sh)
#   scripts/install-deps.sh --build-only  what building the programs needs (./quickstart.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
[[ "${1:-}" == --build-only ]] && build_only=true

# The test dependencies that are not Debian packages; run on every path out of this script,
# including the early one when no package is missing.
install_test_deps() {
  if ! $build_only && [[ -x scripts/install-test-deps.sh ]]; then
    scripts/install-test-deps.sh
  fi
}

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libboost-program-options1.81-dev libboost-regex1.81-dev libboost-log1.81-dev
  libtoml11-dev catch2 libssl-dev libsnappy-dev openssl curl
  libbenchmark-dev  # bench/micro.cpp (Google Benchmark); the configure step looks for it
  jq  # ./quickstart.sh reads `cbes-consul status --json` with it
)
if ! $build_only; then
# Stock third-party clients the compatibility tests drive against the fakes.
packages+=(python3 python3-consul2 python3-requests python3-elasticsearch)
# botocore signs requests with AWS SigV4: the independent check of our signer (tests/unit/sink).
packages+=(python3-botocore)
# tshark dissects the bytes the tests record (tests/integration/wireshark: mcbp as Wireshark
# sees it).
packages+=(tshark)
# Node.js (for npm's stock clients) may come from another Debian repository that bundles npm.
command -v npm >/dev/null || packages+=(nodejs npm)
# Debian's chromium, headless, loads the web pages (Consul UI, group dashboard) and screenshots them.
packages+=(chromium fonts-dejavu-core)
# libFuzzer comes with Clang: scripts/fuzz.sh (a stage of ./test.sh --sanitizers) builds fuzz/.
packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  install_test_deps
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "error: missing packages ${missing[*]}; run as root or install sudo" >&2; exit 1; }
  sudo=sudo
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer "no" up front (we only read
# pcap files, never capture).
if [[ " ${missing[*]} " == *" tshark "* ]]; then
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_test_deps
