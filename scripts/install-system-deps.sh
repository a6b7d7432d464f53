#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: a browser for the UI
# tests, a Redis server for the replica tests, and wrk for the benchmarks.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo="sudo -n"
else
  echo "mockvendor: please install these Debian packages: ${need[*]}" >&2
  echo "  sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "mockvendor: installing ${need[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
