#!/usr/bin/env bash
# Installs everything skiff needs on a fresh Debian 12 machine, as root, idempotently:
# Debian packages, npm dependencies, the TypeScript build, the native helper, and the commands on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "setup: must run as root (it installs Debian packages)" >&2; exit 1; }

mapfile -t wanted < <(sed -e 's/#.*//' -e '/^\s*$/d' scripts/apt-packages.txt | awk '{print $1}')
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run -s build

for cmd in skiff skiff-runtime skiffd; do
  chmod +x "dist/bin/$cmd.cjs"
  ln -sf "$PWD/dist/bin/$cmd.cjs" "/usr/local/bin/$cmd"
done
echo "setup: done (skiff, skiff-runtime, skiffd on PATH)" >&2
