#!/usr/bin/env bash
# From shared/tools/cri-tools beside the project (Apache-2.0, written for this workspace): see README.md here.
# make-test-images.sh — build every local test image for critest and CRI tests and push it to the
# local registry (start-registry.sh first). No network beyond 127.0.0.1 is used.
#
# Tools: busybox-static, catatonit (static), umoci, skopeo, gcc + libc6-dev (static nnp),
#        apt-get download of the Debian packages "busybox" (dynamic build), "nginx" and
#        "nginx-common" (unpacked with dpkg-deb -x into $WORK/debs, never installed on the host),
#        util-linux ipcs/ipcmk/ipcrm, procps pgrep/pkill and the host's shared libraries.
#
# Images (layout tag -> what it is):
#   busybox        busybox-static + applet SYMLINKS, 1 layer          (a plain busybox)
#   pause          /catatonit (static) with entrypoint ["/catatonit","-P"], USER 65535:65535
#   busybox-hl     Debian dynamic busybox + applet HARD LINKS + glibc  (base of all critest images)
#   e2e-busybox    busybox-hl + ipcs/ipcmk/ipcrm/pgrep/pkill (+ libs)
#   nginx          busybox-hl + real nginx 1.22.1 from Debian (+ libs), :80, pid /var/run/nginx.pid
#   hostnet-nginx  nginx listening on :12003
#   httpd          busybox-hl + busybox httpd on :80 (stand-in for Apache httpd 2.4)
#   nonewprivs     busybox-hl + static setuid-root /usr/local/bin/nnp printing "Effective uid: N"
#   test-image-*   busybox-hl + USER / predefined groups / one marker file, as cri-tools' images/
#
# All images live as tags of ONE OCI image layout:  $WORK/oci   (umoci), then
#   skopeo copy --dest-tls-verify=false oci:$WORK/oci:<tag> docker://127.0.0.1:5000/<path>:<tag>
#
# Registry paths are chosen so that containerd's per-registry mirror config (hosts.toml
# "server = http://127.0.0.1:5000" for registry.k8s.io, gcr.io and docker.io) serves the
# exact names critest v1.26.1 asks for, e.g.
#   registry.k8s.io/e2e-test-images/busybox:1.29-2  ->  127.0.0.1:5000/e2e-test-images/busybox:1.29-2
#   gcr.io/k8s-staging-cri-tools/test-image-tag:all ->  127.0.0.1:5000/k8s-staging-cri-tools/test-image-tag:all
#
# Re-runnable: the layout and the scratch dirs are rebuilt from scratch each time.
set -euo pipefail

WORK=${WORK:-/var/lib/cri-test-images}
REG=${REG:-127.0.0.1:5000}
L=$WORK/oci            # the OCI layout
S=$WORK/scratch        # rootfs fragments that become layers
LIBDIR=/lib/x86_64-linux-gnu

need() { command -v "$1" >/dev/null || { echo "missing tool: $1 ($2)" >&2; exit 1; }; }
need busybox   "apt-get install busybox-static"
need catatonit "apt-get install catatonit"
need umoci     "apt-get install umoci"
need skopeo    "apt-get install skopeo"
need gcc       "apt-get install gcc libc6-dev"
file -L "$(command -v busybox)"   | grep -q 'statically linked' || { echo "busybox is not static: install busybox-static" >&2; exit 1; }
file -L "$(command -v catatonit)" | grep -q 'statically linked' || { echo "catatonit is not static" >&2; exit 1; }
curl -fsS "http://$REG/v2/" >/dev/null || { echo "registry $REG not answering: run start-registry.sh" >&2; exit 1; }

rm -rf "$L" "$S"
mkdir -p "$S" "$WORK/debs"
umoci init --layout "$L"

# ---------------------------------------------------------------- helpers
# new_image TAG: empty image (no layers) with a sane default config
new_image() {
  umoci new --image "$L:$1"
  umoci config --image "$L:$1" --no-history --architecture amd64 --os linux \
    --config.env 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
}
# add_layer TAG DIR [NEWTAG]: DIR's content becomes one layer rooted at /
# The layer is written by GNU tar and added with `umoci raw add-layer`: `umoci insert` (0.4.7, Debian 12) cuts the
# end off the layers it writes (the last file's data and the end-of-archive blocks are missing), which any strict
# unpacker rightly refuses.
add_layer() {
  local tag=$1 dir=$2 newtag=${3:-}
  local tarball=$S/layer-$$.tar
  tar -C "$dir" --sort=name --numeric-owner -cf "$tarball" .
  umoci raw add-layer --image "$L:$tag" ${newtag:+--tag "$newtag"} \
    --history.created_by "make-test-images.sh: add $(basename "$dir")" "$tarball"
  rm -f "$tarball"
}
# copy_libs DEST BINARY...: copy the ELF interpreter + shared libraries each BINARY needs
# (libraries already present in $BASE_ROOTFS, the rootfs of the layer below, are not copied again)
copy_libs() {
  local dest=$1; shift
  mkdir -p "$dest$LIBDIR" "$dest/lib64"
  for lib in $(ldd "$@" | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
    case "$lib" in
      */ld-linux-x86-64.so.2)
        [ -e "${BASE_ROOTFS:-/nonexistent}/lib64/ld-linux-x86-64.so.2" ] || cp -L "$lib" "$dest/lib64/ld-linux-x86-64.so.2" ;;
      /*)
        [ -e "${BASE_ROOTFS:-/nonexistent}$LIBDIR/$(basename "$lib")" ] || cp -L "$lib" "$dest$LIBDIR/" ;;
    esac
  done
}
# marker_layer NAME: prints a scratch dir holding one file /NAME (its content: NAME)
marker_layer() {
  local d=$S/marker-$1
  mkdir -p "$d"; echo "$1" > "$d/$1"
  echo "$d"
}
push() {  # push LAYOUT-TAG REGISTRY-PATH:TAG
  echo "push $1 -> $REG/$2"
  skopeo copy -q --dest-tls-verify=false "oci:$L:$1" "docker://$REG/$2"
}

# ---------------------------------------------------------------- (a) busybox base
# rootfs = a busybox binary + one link per applet (BUSYBOX --list-full),
# /etc/passwd and /etc/group modelled on the upstream busybox image (www-data=33, nobody=65534).
# make_busybox_rootfs DIR symlink|hardlink BUSYBOX-BINARY
#   symlink : applets are symlinks to /bin/busybox (our own plain image, cri-test/busybox)
#   hardlink: applets are hard links to /bin/busybox, as in the upstream busybox images that
#             critest's images are built FROM. This matters: critest's "MaskedPaths" spec masks
#             /bin/ls; with a symlink the /dev/null bind mount lands on /bin/busybox itself and
#             the container cannot even run sh.
make_busybox_rootfs() {
  local B=$1 mode=$2 bb=$3
  mkdir -p "$B"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,home,var/spool/mail,var/www,dev,proc,sys}
  chmod 1777 "$B/tmp"; chmod 700 "$B/root"
  cp "$bb" "$B/bin/busybox"
  for app in $("$bb" --list-full); do
    [ "$app" = bin/busybox ] && continue
    mkdir -p "$B/$(dirname "$app")"
    if [ "$mode" = hardlink ]; then ln -f "$B/bin/busybox" "$B/$app"; else ln -sf /bin/busybox "$B/$app"; fi
  done
  cat > "$B/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOT
  cat > "$B/etc/group" <<'EOT'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
EOT
  echo "root:*::0:::::" > "$B/etc/shadow"; chmod 600 "$B/etc/shadow"
}
make_busybox_rootfs "$S/busybox-rootfs" symlink "$(command -v busybox)"
new_image busybox
add_layer busybox "$S/busybox-rootfs"
umoci config --image "$L:busybox" --no-history --config.cmd sh
# critest base ("busybox-hl"): Debian's DYNAMIC busybox (package "busybox", unpacked, not installed)
# with hard-linked applets + the glibc it links. Why not busybox-static: Debian builds the static one
# with the "standalone shell" (sh runs applets in-process without exec), so masking /bin/ls has no
# effect and critest's MaskedPaths spec cannot pass; the dynamic build execs /bin/ls like upstream.
( cd "$WORK/debs" && { ls busybox_*_amd64.deb >/dev/null 2>&1 || apt-get download busybox; } )
BBX=$S/busybox-deb; mkdir -p "$BBX"
dpkg-deb -x "$(ls "$WORK"/debs/busybox_*_amd64.deb | tail -1)" "$BBX"
B=$S/busybox-hl-rootfs
make_busybox_rootfs "$B" hardlink "$BBX/bin/busybox"
copy_libs "$B" "$BBX/bin/busybox"
BASE_ROOTFS=$B      # copy_libs below skips the libraries this base already has
new_image busybox-hl
add_layer busybox-hl "$B"
umoci config --image "$L:busybox-hl" --no-history --config.cmd sh

# ---------------------------------------------------------------- (b) pause
# catatonit is static; "-P" = pause mode: no child, sleeps as PID 1, reaps zombies, exits on TERM/INT.
P=$S/pause-rootfs
mkdir -p "$P"
cp "$(command -v catatonit)" "$P/catatonit"
new_image pause
add_layer pause "$P"
umoci config --image "$L:pause" --no-history --config.entrypoint /catatonit --config.entrypoint -P \
  --config.user 65535:65535

# ---------------------------------------------------------------- e2e busybox:1.29-2
# upstream busybox 1.29 has the ipcs/ipcmk and pgrep/pkill applets; Debian's busybox builds (static
# and dynamic) lack them, and critest runs "ipcs -m" (HostIpc specs) and "pgrep sleep" (execSync timeout spec) in
# this image -> add util-linux's ipc tools, procps' pgrep/pkill and the shared libraries they need.
I=$S/extra-tools
mkdir -p "$I/usr/bin"
cp /usr/bin/ipcs /usr/bin/ipcmk /usr/bin/ipcrm /usr/bin/pgrep /usr/bin/pkill "$I/usr/bin/"
copy_libs "$I" /usr/bin/ipcs /usr/bin/ipcmk /usr/bin/ipcrm /usr/bin/pgrep /usr/bin/pkill
add_layer busybox-hl "$I" e2e-busybox

# ---------------------------------------------------------------- nginx (e2e nginx:1.14-2, hostnet-nginx)
# The real nginx binary from Debian's package (1.22.1), unpacked with dpkg-deb -x (not installed),
# plus the shared libraries it links, on top of busybox. Layout as the official image:
# conf in /etc/nginx, logs -> /dev/stdout|stderr, pid in /var/run/nginx.pid, worker user nginx(101).
( cd "$WORK/debs" && { ls nginx_*_amd64.deb nginx-common_*_all.deb >/dev/null 2>&1 || apt-get download nginx nginx-common; } )
X=$S/nginx-deb; mkdir -p "$X"
dpkg-deb -x "$(ls "$WORK"/debs/nginx_*_amd64.deb | tail -1)" "$X"
dpkg-deb -x "$(ls "$WORK"/debs/nginx-common_*_all.deb | tail -1)" "$X"
N=$S/nginx
mkdir -p "$N/usr/sbin" "$N/etc/nginx/conf.d" "$N/usr/share/nginx/html" "$N/var/log/nginx" \
         "$N/var/lib/nginx" "$N/var/cache/nginx" "$N/run" "$N/var"
cp "$X/usr/sbin/nginx" "$N/usr/sbin/nginx"
cp "$X/etc/nginx/mime.types" "$N/etc/nginx/"
cp "$X/usr/share/nginx/html/index.html" "$N/usr/share/nginx/html/index.html"
copy_libs "$N" "$X/usr/sbin/nginx"
ln -s ../run "$N/var/run"
ln -s /dev/stdout "$N/var/log/nginx/access.log"
ln -s /dev/stderr "$N/var/log/nginx/error.log"
cp "$B/etc/passwd" "$N/etc/passwd"; echo 'nginx:x:101:101:nginx user:/nonexistent:/bin/false' >> "$N/etc/passwd"
cp "$B/etc/group"  "$N/etc/group";  echo 'nginx:x:101:' >> "$N/etc/group"
cat > "$N/etc/nginx/nginx.conf" <<'EOF'
user  nginx;
worker_processes  1;
error_log  /var/log/nginx/error.log warn;
pid        /var/run/nginx.pid;
events { worker_connections  1024; }
http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log    /var/log/nginx/access.log;
    sendfile      on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
EOF
cat > "$N/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;
    location / { root /usr/share/nginx/html; index index.html index.htm; }
}
EOF
add_layer busybox-hl "$N" nginx
umoci config --image "$L:nginx" --no-history --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;' \
  --config.exposedports 80/tcp --config.stopsignal SIGTERM

# hostnet-nginx: same, default.conf listens on 12003 (critest's webServerHostNetContainerPort)
H=$S/hostnet-nginx; mkdir -p "$H/etc/nginx/conf.d"
sed 's/listen       80;/listen       12003;/' "$N/etc/nginx/conf.d/default.conf" > "$H/etc/nginx/conf.d/default.conf"
add_layer nginx "$H" hostnet-nginx
umoci config --image "$L:hostnet-nginx" --no-history --clear config.exposedports --config.exposedports 12003/tcp

# ---------------------------------------------------------------- httpd stand-in (e2e httpd:2.4.39-4)
# NOT Apache: busybox httpd on :80 serving "It works!", started by httpd-foreground which prints the
# Apache-style "Command line: 'httpd -D FOREGROUND'" line critest looks for in the container log.
A=$S/httpd; mkdir -p "$A/usr/local/apache2/htdocs" "$A/usr/local/bin"
echo '<html><body><h1>It works!</h1></body></html>' > "$A/usr/local/apache2/htdocs/index.html"
cat > "$A/usr/local/bin/httpd-foreground" <<'EOF'
#!/bin/sh
# local stand-in for the httpd:2.4 image: busybox httpd in the foreground on port 80
echo "[core:notice] [pid $$] AH00094: Command line: 'httpd -D FOREGROUND'" >&2
exec httpd -f -v -p 80 -h /usr/local/apache2/htdocs
EOF
chmod 755 "$A/usr/local/bin/httpd-foreground"
add_layer busybox-hl "$A" httpd
umoci config --image "$L:httpd" --no-history --config.cmd httpd-foreground \
  --config.workingdir /usr/local/apache2 --config.exposedports 80/tcp

# ---------------------------------------------------------------- nonewprivs:1.3
# Same program as kubernetes/test/images/nonewprivs: a setuid-root binary printing its euid.
C=$S/nnp; mkdir -p "$C/usr/local/bin"
cat > "$S/nnp.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("Effective uid: %d\n", (int)geteuid()); return 0; }
EOF
gcc -static -O2 -s -o "$C/usr/local/bin/nnp" "$S/nnp.c"
chmod 4755 "$C/usr/local/bin/nnp"
add_layer busybox-hl "$C" nonewprivs
umoci config --image "$L:nonewprivs" --no-history --config.user 1000 --config.entrypoint /usr/local/bin/nnp --clear config.cmd

# ---------------------------------------------------------------- cri-tools test images (images/ in cri-tools)
# image-user: FROM busybox + USER
for spec in user-uid=1002 user-username=www-data user-uid-group=1003:1004 user-username-group=www-data:1004; do
  name=${spec%%=*}; user=${spec#*=}
  umoci config --image "$L:busybox-hl" --tag "test-image-$name" --config.user "$user" \
    --history.created_by "USER $user"
done
# image-predefined-group: default-user(1000) in group group-defined-in-image(50000), USER 1000
G=$S/predefined-group; mkdir -p "$G/etc" "$G/home/default-user"
cp "$B/etc/passwd" "$G/etc/passwd"; echo 'default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh' >> "$G/etc/passwd"
cp "$B/etc/group"  "$G/etc/group";  printf 'default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n' >> "$G/etc/group"
chown 1000:1000 "$G/home/default-user"
add_layer busybox-hl "$G" test-image-predefined-group
umoci config --image "$L:test-image-predefined-group" --no-history --config.user 1000
# image-test: FROM busybox + ADD <marker> (distinct layer => distinct image id per name)
for name in test-image-1 test-image-2 test-image-3 test-image-latest test-image-digest test-image-tag same-image; do
  add_layer busybox-hl "$(marker_layer "$name")" "$name"
done

umoci gc --layout "$L"

# ---------------------------------------------------------------- push
push busybox                       cri-test/busybox:latest        # a plain busybox
push busybox                       library/busybox:latest        # = docker.io/library/busybox via mirror
push pause                         pause:3.6                     # sandbox_image (also registry.k8s.io/pause:3.6)
push pause                         cri-test/pause:latest
push e2e-busybox                   e2e-test-images/busybox:1.29-2
push nginx                         e2e-test-images/nginx:1.14-2
push httpd                         e2e-test-images/httpd:2.4.39-4
push nonewprivs                    e2e-test-images/nonewprivs:1.3
push hostnet-nginx                 k8s-staging-cri-tools/hostnet-nginx-amd64:latest
for n in user-uid user-username user-uid-group user-username-group predefined-group; do
  push "test-image-$n"             "k8s-staging-cri-tools/test-image-$n:latest"
done
for n in 1 2 3 latest digest; do
  push "test-image-$n"             "k8s-staging-cri-tools/test-image-$n:latest"
done
push test-image-tag                k8s-staging-cri-tools/test-image-tag:test
push test-image-tag                k8s-staging-cri-tools/test-image-tag:all
for t in 1 2 3; do
  push same-image                  "k8s-staging-cri-tools/test-image-tags:$t"
done

echo "catalog: $(curl -fsS "http://$REG/v2/_catalog?n=200")"
