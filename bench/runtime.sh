#!/usr/bin/env bash
# skiff-runtime side by side with runc and crun on one busybox bundle: medians and ratios (hyperfine), peak memory
# (/usr/bin/time), and the same lifecycle driven in-process through the TypeScript API (bench/runtime-inprocess.ts).
# Run as root after scripts/setup.sh:  bash bench/runtime.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-30}
work=$(mktemp -d /tmp/skiff-bench.XXXXXX)
json=$work/json; mkdir -p "$json"

cleanup() {
  for rt in skiff-runtime runc crun; do
    for id in $("$rt" --root "$work/$rt-root" list -q 2>/dev/null || true); do "$rt" --root "$work/$rt-root" delete -f "$id" >/dev/null 2>&1 || true; done
  done
  rm -rf "$work"
}
trap cleanup EXIT

bundle=$work/bundle
node --input-type=module -e "
  import { makeBusyboxRootfs } from '$PWD/dist/src/image/busybox-rootfs.js';
  makeBusyboxRootfs('$bundle/rootfs');"
(cd "$bundle" && runc spec && sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"/"\/bin\/true"/' config.json)

# crun refuses this host's hybrid cgroup layout unless the near-empty cgroup2 at /sys/fs/cgroup/unified is hidden,
# so every runtime runs inside one private mount namespace without it: the same conditions for all three.
inner=$work/inner.sh
cat > "$inner" <<INNER
set -euo pipefail
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
B=$bundle; W=$work; J=$json; RUNS=$RUNS
hf() { hyperfine --style none --warmup 3 --runs "\$RUNS" --export-json "\$J/\$1.json" "\${@:2}" >/dev/null; }
cmd() { echo "\$1 --root \$W/\$1-root"; }
hf floor -n 'node -e 0' 'node -e 0'
hf run-warm \$(for rt in skiff-runtime runc crun; do printf -- '-n %s ' "\$rt"; printf '%q ' "\$(cmd \$rt) run --bundle \$B bench"; done)
hf run-idle --prepare 'sleep 0.1' \$(for rt in skiff-runtime runc crun; do printf -- '-n %s ' "\$rt"; printf '%q ' "\$(cmd \$rt) run --bundle \$B bench"; done)
hf lifecycle \$(for rt in skiff-runtime runc crun; do c=\$(cmd \$rt); printf -- '-n %s ' "\$rt"; printf '%q ' "\$c create --bundle \$B lc && \$c start lc && \$c state lc >/dev/null && \$c delete -f lc"; done)
RUNS=3 hf fifty \$(for rt in skiff-runtime runc crun; do printf -- '-n %s ' "\$rt"; printf '%q ' "for i in \\\$(seq 50); do \$(cmd \$rt) run --bundle \$B b\\\$i; done"; done)
sed -i 's/"\/bin\/true"/"sleep", "1000"/' \$B/config.json
for rt in skiff-runtime runc crun; do for i in \$(seq 50); do \$(cmd \$rt) create --bundle \$B s\$i >/dev/null; done; done
hf state \$(for rt in skiff-runtime runc crun; do printf -- '-n %s ' "\$rt"; printf '%q ' "\$(cmd \$rt) state s25"; done)
hf list \$(for rt in skiff-runtime runc crun; do printf -- '-n %s ' "\$rt"; printf '%q ' "\$(cmd \$rt) list"; done)
for rt in skiff-runtime runc crun; do for i in \$(seq 50); do \$(cmd \$rt) delete -f s\$i >/dev/null; done; done
sed -i 's/"sleep", "1000"/"\/bin\/true"/' \$B/config.json
for rt in skiff-runtime runc crun; do
  for i in 1 2 3 4 5; do /usr/bin/time -f '%M' -a -o \$J/peak-\$rt.txt \$(cmd \$rt) run --bundle \$B mem >/dev/null; done
done
INNER
unshare --mount --propagation private bash "$inner"
node dist/bench/runtime-inprocess.js "$bundle" "$RUNS" > "$json/inprocess.json"
node dist/bench/report-runtime.js "$json"
