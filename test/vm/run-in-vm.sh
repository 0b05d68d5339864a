#!/bin/bash
# run-in-vm.sh (the project's copy of the design notes' vm-cgroup2 tool) - run one command inside a throw-away qemu VM whose only cgroup
# hierarchy is cgroup v2, and hand back its output and exit status.
#
#   run-in-vm.sh [--] COMMAND [ARGS...]
#
# The VM's root filesystem is the host's / shared read-only over virtio-9p with
# a tmpfs overlay on top (writes inside the VM are thrown away).  The command
# runs as root in the host's current directory; stdout+stderr are printed
# after the VM powers off and the script exits with the command's status.
#
# Environment knobs (all optional):
#   VMTEST_DIR      work dir for initramfs and per-run dirs   (/opt/vmtest)
#   VMTEST_ACCEL    kvm | tcg   (default: kvm if the CPU shows vmx/svm and
#                   /dev/kvm exists, else tcg)
#   VMTEST_MEM      guest RAM in MiB                           (512)
#   VMTEST_TB_SIZE  TCG translation cache MiB (host RSS!)      (128)
#   VMTEST_CPU      qemu -cpu model   (host for kvm, max for tcg)
#   VMTEST_APPEND   extra kernel args replacing "quiet loglevel=1"
#   VMTEST_PVH      0 = boot the compressed vmlinuz instead of vmlinux (PVH)
#   VMTEST_SMP      guest CPUs                                 (2)
#   VMTEST_TIMEOUT  seconds before the VM is killed            (300)
#   VMTEST_RW_DIR   a host dir mounted read-write at the same path in the VM
#   VMTEST_KERNEL   kernel image (default: newest /boot/vmlinuz-*-amd64)
#   VMTEST_VERBOSE  1 = print timings and the serial console log to stderr
# Exit status: the command's status; 125 = VM/setup failure (console log is
# printed to stderr); 124 = timeout.
set -euo pipefail

VMTEST_DIR=${VMTEST_DIR:-/opt/vmtest}
mkdir -p "$VMTEST_DIR"
MEM=${VMTEST_MEM:-512}
SMP=${VMTEST_SMP:-2}
TIMEOUT=${VMTEST_TIMEOUT:-300}
VERBOSE=${VMTEST_VERBOSE:-0}
[ "${1:-}" = "--" ] && shift
[ $# -ge 1 ] || { echo "usage: $0 [--] COMMAND [ARGS...]" >&2; exit 2; }

log() { [ "$VERBOSE" = 1 ] && echo "[vmtest] $*" >&2 || true; }
die() { echo "[vmtest] error: $*" >&2; exit 125; }

# ---- 1. packages ---------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && /bin/busybox --list | grep -qx switch_root || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
ls /boot/vmlinuz-*-amd64 2>/dev/null | grep -qv cloud || need+=(linux-image-amd64)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages ${need[*]} (run once as root)"
  echo "[vmtest] installing ${need[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# ---- 2. kernel + initramfs -------------------------------------------------
# The -cloud kernel has no 9p support, so use the generic one.
KERNEL=${VMTEST_KERNEL:-$(ls -v /boot/vmlinuz-*-amd64 | grep -v cloud | tail -1)}
KVER=${KERNEL##*/vmlinuz-}
MODDIR=/lib/modules/$KVER
[ -f "$MODDIR/kernel/fs/9p/9p.ko" ] || die "no 9p module for $KVER"
INITRD=$VMTEST_DIR/initramfs-$KVER.cpio.gz
# Boot the uncompressed ELF vmlinux through its PVH entry point: this skips
# the in-guest xz decompression, which costs ~2 s under TCG.
VMLINUX=$VMTEST_DIR/vmlinux-$KVER
if [ ! -s "$VMLINUX" ] && [ "${VMTEST_PVH:-1}" = 1 ]; then
  pos=$(grep -abo $'\xfd7zXZ\x00' "$KERNEL" | head -1 | cut -d: -f1 || true)
  if [ -n "$pos" ]; then
    tail -c +$((pos + 1)) "$KERNEL" | xz -dc > "$VMLINUX.tmp" 2>/dev/null || true
    if head -c 4 "$VMLINUX.tmp" | grep -q ELF && readelf -n "$VMLINUX.tmp" 2>/dev/null | grep -q 0x00000012; then
      mv "$VMLINUX.tmp" "$VMLINUX"
    fi
    rm -f "$VMLINUX.tmp"
  fi
fi
[ -s "$VMLINUX" ] && [ "${VMTEST_PVH:-1}" = 1 ] && BOOTIMG=$VMLINUX || BOOTIMG=$KERNEL
INIT_VERSION=4   # bump when the init below changes

if [ ! -f "$INITRD" ] || [ "$(cat "$INITRD.version" 2>/dev/null)" != "$INIT_VERSION" ]; then
  log "building $INITRD"
  stage=$(mktemp -d "$VMTEST_DIR/initramfs.XXXXXX")
  mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,newroot,lib/modules}
  cp /bin/busybox "$stage/bin/busybox"
  for m in kernel/drivers/virtio/virtio_ring kernel/drivers/virtio/virtio \
           kernel/drivers/virtio/virtio_pci_legacy_dev \
           kernel/drivers/virtio/virtio_pci_modern_dev \
           kernel/drivers/virtio/virtio_pci kernel/drivers/char/hw_random/virtio-rng \
           kernel/fs/netfs/netfs kernel/fs/fscache/fscache \
           kernel/net/9p/9pnet kernel/net/9p/9pnet_virtio kernel/fs/9p/9p \
           kernel/fs/overlayfs/overlay; do
    cp "$MODDIR/$m.ko" "$stage/lib/modules/"
    echo "${m##*/}" >> "$stage/lib/modules/order"
  done
  cat > "$stage/init" <<'EOF'
#!/bin/busybox sh
# stage 1 (initramfs): mount host / (9p, ro) + tmpfs overlay, then switch_root
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || echo "insmod $m failed"; done
fail() { echo "vmtest-init: $*"; echo o > /proc/sysrq-trigger; sleep 10; }
o9p=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o $o9p,ro,cache=loose root /lower || fail "mount 9p root"
mount -t tmpfs -o mode=755 tmpfs /rw && mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot \
  || fail "mount overlay"
mkdir -p /newroot/vmshare
mount -t 9p -o $o9p,cache=none vmshare /newroot/vmshare || fail "mount vmshare"
# a clean pure-cgroup2 system view
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup || fail "mount cgroup2"
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
for d in tmp run var/tmp; do mount -t tmpfs -o mode=1777 tmpfs /newroot/$d; done
# after the tmpfs mounts, so a shared directory under /tmp (a checkout there) is not hidden by them
rwdir=$(cat /newroot/vmshare/rwdir 2>/dev/null)
if [ -n "$rwdir" ]; then
  mkdir -p "/newroot$rwdir" && mount -t 9p -o $o9p,cache=none rwdir "/newroot$rwdir" || fail "mount rwdir"
fi
umount /proc /sys /dev 2>/dev/null
exec switch_root /newroot /bin/sh /vmshare/stage2
EOF
  chmod +x "$stage/init"
  (cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"; echo "$INIT_VERSION" > "$INITRD.version"
  rm -rf "$stage"
fi

# ---- 3. per-run share: command, stage-2 init, results ----------------------
mkdir -p "$VMTEST_DIR/runs"
run=$(mktemp -d "$VMTEST_DIR/runs/run.XXXXXX")
trap 'rm -rf "$run"' EXIT
{ printf 'cd %q 2>/dev/null || cd /\n' "$PWD"; printf '%q ' "$@"; echo; } > "$run/cmd"
if [ -n "${VMTEST_RW_DIR:-}" ]; then
  VMTEST_RW_DIR=$(realpath "$VMTEST_RW_DIR"); echo "$VMTEST_RW_DIR" > "$run/rwdir"
fi
cat > "$run/stage2" <<'EOF'
# stage 2 (PID 1 in the overlay root): run the command, record status, power off
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
hostname vmtest 2>/dev/null
read up _ < /proc/uptime; echo "$up" > /vmshare/t_start
/bin/bash /vmshare/cmd > /vmshare/out 2>&1 < /dev/null
echo $? > /vmshare/rc
read up _ < /proc/uptime; echo "$up" > /vmshare/t_end
sync
echo o > /proc/sysrq-trigger
sleep 10
EOF

# ---- 4. boot -----------------------------------------------------------------
ACCEL=${VMTEST_ACCEL:-}
if [ -z "$ACCEL" ]; then
  if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [ "$ACCEL" = kvm ]; then cpu=(-accel kvm -cpu "${VMTEST_CPU:-host}"); else cpu=(-accel "tcg,thread=multi,tb-size=${VMTEST_TB_SIZE:-128}" -cpu "${VMTEST_CPU:-max}"); fi
log "kernel=$BOOTIMG accel=$ACCEL mem=${MEM}M smp=$SMP run=$run"

t0=$(date +%s.%N)
set +e
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${cpu[@]}" -m "$MEM" -smp "$SMP" \
  -machine q35 -nodefaults -no-user-config -display none -monitor none -no-reboot \
  -kernel "$BOOTIMG" -initrd "$INITRD" \
  -append "console=ttyS0 ${VMTEST_APPEND:-quiet loglevel=1} panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all tsc=reliable" \
  -serial "file:$run/console.log" \
  -virtfs local,path=/,mount_tag=root,security_model=passthrough,readonly=on,multidevs=remap \
  -virtfs local,path="$run",mount_tag=vmshare,security_model=passthrough,multidevs=remap \
  ${VMTEST_RW_DIR:+-virtfs local,path="$VMTEST_RW_DIR",mount_tag=rwdir,security_model=passthrough,multidevs=remap} \
  -device virtio-rng-pci \
  > "$run/qemu.log" 2>&1
qrc=$?
set -e
t1=$(date +%s.%N)

if [ "$VERBOSE" = 1 ]; then
  log "qemu exit=$qrc wall=$(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")s guest-uptime-at-cmd-start=$(cat "$run/t_start" 2>/dev/null)s cmd-end=$(cat "$run/t_end" 2>/dev/null)s"
  sed 's/^/[console] /' "$run/console.log" "$run/qemu.log" >&2
fi
[ -f "$run/out" ] && cat "$run/out"
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
  echo "[vmtest] timeout after ${TIMEOUT}s" >&2; tail -n 20 "$run/console.log" >&2; exit 124
fi
if [ ! -f "$run/rc" ]; then
  echo "[vmtest] VM did not finish the command (qemu exit $qrc)" >&2
  tail -n 30 "$run/console.log" "$run/qemu.log" >&2; exit 125
fi
exit "$(cat "$run/rc")"
