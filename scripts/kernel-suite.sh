#!/usr/bin/env bash
# The real-kernel conformance suite: runs the shipped labs and every
# scenario under scenarios/conformance/ on the Linux kernel's own IPVS
# (the host's if it has IPVS and we are root, else a qemu VM booting
# Debian 12's cloud kernel) and compares with the simulator. Exit 1 on any
# difference. Needs: scripts/install-deps (qemu-system-x86 busybox-static
# ipvsadm iproute2 kmod cpio) and apt metadata (`apt-get update`) for the
# one-time kernel download, cached in ~/.cache/lvslab/kernel-vm.
# Time on 2 cores (qemu TCG): see README "Real kernel".
set -euo pipefail
cd "$(dirname "$0")/.."
# The kernel .deb comes from apt: make sure apt has its package lists.
if ! apt-cache show linux-image-cloud-amd64 >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
fi
cargo build -q --bin lvslab
exec target/debug/lvslab kernel "$@" \
  scenarios/labs/tutorial-dr.toml scenarios/labs/nat.toml scenarios/labs/tun.toml \
  scenarios/conformance
