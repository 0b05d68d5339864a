#!/usr/bin/env bash
# From shared/tools/cri-tools beside the project (Apache-2.0, written for this workspace): see README.md here.
# Starts a local image registry (Debian's docker-registry) on 127.0.0.1:${PORT:-5000}, plain HTTP, no auth,
# storage under ${REG_DIR:-/var/lib/cri-test-registry}. Idempotent; prints the pid. Stop: kill "$(cat $REG_DIR/registry.pid)".
set -euo pipefail
PORT=${PORT:-5000}; R=${REG_DIR:-/var/lib/cri-test-registry}
command -v docker-registry >/dev/null || { echo "docker-registry missing: apt-get install -y docker-registry" >&2; exit 1; }
mkdir -p "$R/data"
cat > "$R/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $R/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
YML
if [ -f "$R/registry.pid" ] && kill -0 "$(cat "$R/registry.pid")" 2>/dev/null; then
  echo "registry already running on 127.0.0.1:$PORT, pid $(cat "$R/registry.pid")"; exit 0
fi
setsid nohup docker-registry serve "$R/config.yml" >>"$R/registry.log" 2>&1 </dev/null &
echo $! > "$R/registry.pid"
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && { echo "registry on 127.0.0.1:$PORT, pid $(cat "$R/registry.pid")"; exit 0; }
  sleep 0.1
done
echo "registry did not answer on 127.0.0.1:$PORT; see $R/registry.log" >&2; exit 1
