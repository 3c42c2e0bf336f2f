#!/bin/bash
# Builds (once, cached) the base image `lvslab kernel` boots under qemu:
# Debian 12's linux-image-cloud-amd64 (6.1, IPVS as modules), only
# downloaded and unpacked (nothing goes to /boot), plus an initramfs with
# busybox, iproute2's ip, ipvsadm, keepalived and iptables-legacy (when
# installed: the VRRP comparison, filter rules), each with the shared
# libraries ldd names, the
# IPVS/veth/bridge/ipip modules and guest/init. Written by lvslab into its cache folder and run from there.
#
# Usage: build-base.sh CACHE_DIR STAMP     (STAMP changes when this file
# or guest/init change). Prints KERNEL=, INITRD=, KV= lines on success.
# Host packages: qemu-system-x86 busybox-static ipvsadm iproute2 kmod cpio keepalived iptables
set -euo pipefail
CACHE=$1; STAMP=$2
FLAVOUR=${LVSLAB_KERNEL_FLAVOUR:-cloud-amd64}
mkdir -p "$CACHE"; cd "$CACHE"
log() { echo "[base] $*" >&2; }
for t in apt-cache apt-get dpkg-deb depmod modprobe cpio busybox ipvsadm ip; do
  command -v "$t" >/dev/null || { echo "build-base: missing $t (apt-get install qemu-system-x86 busybox-static ipvsadm iproute2 kmod cpio)" >&2; exit 3; }
done
KPKG=$(apt-cache depends "linux-image-$FLAVOUR" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
if [ -z "$KPKG" ]; then
  # no apt metadata for the meta package: reuse an unpacked kernel if any
  KPKG=$(ls -d kernel-linux-image-* 2>/dev/null | sed 's/^kernel-//' | tail -1)
  [ -n "$KPKG" ] || { echo "build-base: apt knows no linux-image-$FLAVOUR (run apt-get update)" >&2; exit 3; }
fi
KROOT="$CACHE/kernel-$KPKG"
if [ ! -d "$KROOT/boot" ]; then
  log "downloading $KPKG"
  rm -rf debs "$KROOT.tmp"; mkdir -p debs
  (cd debs && apt-get download "$KPKG" >/dev/null 2>&1) || { echo "build-base: apt-get download $KPKG failed" >&2; exit 3; }
  dpkg-deb -x debs/"$KPKG"_*.deb "$KROOT.tmp"
  mv "$KROOT.tmp" "$KROOT"; rm -rf debs
fi
KV=$(ls "$KROOT/lib/modules" | head -1)
[ -f "$KROOT/lib/modules/$KV/modules.dep" ] || depmod -b "$KROOT" "$KV"
BASE="$CACHE/base-$KV-$STAMP.cpio"
if [ ! -f "$BASE" ]; then
  log "building the initramfs for $KV"
  ROOT=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$ROOT"' EXIT
  mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,run,tmp,var,usr/bin,usr/sbin}
  ln -s ../run "$ROOT/var/run"
  cp "$(command -v busybox)" "$ROOT/bin/busybox"
  for a in $("$ROOT/bin/busybox" --list); do
    [ -e "$ROOT/bin/$a" ] || ln -s busybox "$ROOT/bin/$a"
  done
  rm -f "$ROOT/bin/ip"   # iproute2's ip (busybox's has no netns)
  echo "root:x:0:0:root:/:/bin/sh" > "$ROOT/etc/passwd"
  echo "root:x:0:" > "$ROOT/etc/group"
  copy_bin() {
    install -D -m755 "$1" "$ROOT/$2"
    ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
      [ -e "$ROOT$lib" ] || install -D "$lib" "$ROOT$lib"
    done
  }
  copy_bin "$(command -v ipvsadm)" sbin/ipvsadm
  copy_bin "$(command -v ip)" sbin/ip
  # keepalived is optional: without it keepalived scenarios are "not run".
  KA=$(command -v keepalived || true)
  [ -z "$KA" ] && [ -x /usr/sbin/keepalived ] && KA=/usr/sbin/keepalived
  if [ -n "$KA" ]; then
    copy_bin "$KA" usr/sbin/keepalived
  else
    log "keepalived is not installed: keepalived scenarios will not run (apt-get install keepalived)"
  fi
  # iptables (legacy, filter table) is optional too: `iptables -A INPUT -p vrrp -j DROP`.
  XT=$(command -v xtables-legacy-multi || true)
  [ -z "$XT" ] && [ -x /usr/sbin/xtables-legacy-multi ] && XT=/usr/sbin/xtables-legacy-multi
  if [ -n "$XT" ]; then
    copy_bin "$XT" usr/sbin/xtables-legacy-multi
    ln -s xtables-legacy-multi "$ROOT/usr/sbin/iptables"
    # its extensions, where it looks for them (XTABLES_LIBDIR)
    for XLIB in /usr/lib/x86_64-linux-gnu/xtables /usr/lib/xtables /usr/lib64/xtables; do
      [ -d "$XLIB" ] || continue
      mkdir -p "$ROOT$XLIB"
      cp "$XLIB"/libxt_*.so "$XLIB"/libipt_*.so "$ROOT$XLIB"/ 2>/dev/null || true
      break
    done
    cp /etc/protocols "$ROOT/etc/protocols" 2>/dev/null || true
  else
    log "iptables is not installed: scenarios with iptables rules will not run (apt-get install iptables)"
  fi
  MODS="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_sed
        ip_vs_nq ip_vs_lblc ip_vs_lblcr ip_vs_mh ip_vs_fo ip_vs_ovf ip_vs_twos
        veth bridge ipip qemu_fw_cfg ip_tables iptable_filter"
  : > "$ROOT/etc/modules.order"
  for m in $MODS; do
    modprobe -d "$KROOT" -S "$KV" --show-depends "$m" 2>/dev/null || echo "# $m not in $KV" >&2
  done | awk '$1=="insmod" && !seen[$2]++ {print $2}' | while read -r ko; do
    rel=${ko#"$KROOT"}
    install -D -m644 "$ko" "$ROOT$rel"
    echo "$rel" >> "$ROOT/etc/modules.order"
  done
  cp "$CACHE/init" "$ROOT/init"; chmod 755 "$ROOT/init"
  (cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$BASE.tmp"
  mv "$BASE.tmp" "$BASE"
fi
echo "KERNEL=$KROOT/boot/vmlinuz-$KV"
echo "INITRD=$BASE"
echo "KV=$KV"
