#!/usr/bin/env bash
# heapscope's one set-up script (README "Quick start"):
#   scripts/setup.sh demo   install missing Debian packages, build Release, analyze the demo graph
#   scripts/setup.sh test   the same set-up, then the whole test suite (ctest: doctest + CLI tests)
# Environment: BUILD_DIR (default build), JOBS (default: number of cores).
set -euo pipefail

mode="${1:-}"
if [[ "$mode" != demo && "$mode" != test ]]; then
  echo "usage: scripts/setup.sh demo|test" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
jobs="${JOBS:-$(nproc)}"

# Build tools, the design's libraries, and what the tests drive (gdb's gcore
# makes core files; python3 and node make the other snapshots).
packages=(cmake ninja-build g++
          libcli11-dev nlohmann-json3-dev libboost-graph-dev libspdlog-dev doctest-dev
          libsimdjson-dev zlib1g-dev libzstd-dev gdb zstd)
# python3 and node may come from elsewhere (pyenv, nvm): Debian's only when absent.
command -v python3 > /dev/null || packages+=(python3)
command -v node > /dev/null || packages+=(nodejs)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2> /dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$jobs"

if [[ "$mode" == demo ]]; then
  "$build_dir/src/heapscope" analyze "$root/testdata/demo/leaky-service.json.gz" --top 5
else
  ctest --test-dir "$build_dir" -j "$jobs" --output-on-failure --timeout 900
fi
