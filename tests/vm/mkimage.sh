#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build what tests/vm/run.sh boots, into a cache directory:
#
#   tests/vm/mkimage.sh CACHE_DIR
#
#   CACHE_DIR/kernel/         Debian's linux-image-*-amd64 package, unpacked
#   CACHE_DIR/debs/           debootstrap's package cache
#   CACHE_DIR/rootfs/         Debian 12 minbase tree with the packages that
#                             apprunnerd runs with, configured for the VM
#   CACHE_DIR/root.ext4       ext4 image of rootfs/, which run.sh copies
#                             before every boot
#   CACHE_DIR/initrd.cpio.gz  busybox initramfs running initramfs-init.sh
#   CACHE_DIR/*.stamp         checksums of the inputs of the files above
#
# Rebuilds rootfs/ and root.ext4 when this script, the vmtest units or the
# kernel version changed, and the initramfs when this script,
# initramfs-init.sh, the host's busybox or the kernel version changed. Downloads come from the first mirror in the host's apt sources.
# The apprunnerd build is not part of the image: run.sh adds it at boot.
# Must run as root (debootstrap, chroot).

set -euo pipefail

SUITE=bookworm
IMAGE_SIZE=3G

# What apprunnerd runs with (see the dependencies in meson.build and the
# programs named in daemon/): systemd and D-Bus, crun, HAProxy, nftables,
# iproute2 and the shared libraries, plus the tools the tests use.
PACKAGES=(
        systemd systemd-sysv dbus udev kmod procps iproute2 util-linux
        crun haproxy nftables
        libinih1 libnl-3-200 libnl-route-3-200 libseccomp2 libarchive13
        libjson-c5 libcurl4 libssl3
        curl jq busybox-static
)

# Kernel modules the initramfs loads, dependencies first, because busybox
# insmod resolves none: virtio block and PCI, ext4, 9p and overlayfs.
INITRAMFS_MODULES=(
        virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
        crc16 mbcache jbd2 crc32c_generic ext4
        netfs fscache 9pnet 9pnet_virtio 9p overlay
)

# Units that a test VM does not need, masked because they slow the boot
# under TCG.
MASKED_UNITS=(
        getty@tty1.service serial-getty@ttyS0.service haproxy.service
        e2scrub_reap.service systemd-pstore.service
        apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer
)

die() {
        echo "mkimage.sh: $*" >&2
        exit 2
}

info() {
        echo "$*"
}

[[ $# -eq 1 ]] || die "usage: $0 CACHE_DIR"
[[ $EUID -eq 0 ]] || die "must run as root (debootstrap and chroot)"
for tool in debootstrap apt-get dpkg mkfs.ext4 cpio gzip busybox sha256sum; do
        command -v "$tool" >/dev/null || die "$tool not found; run .ci/run or install it"
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_dir=$1
mkdir -p "$cache_dir"
cache_dir=$(cd "$cache_dir" && pwd)

busybox=$(command -v busybox)
[[ $(ldd "$busybox" 2>&1 || true) == *"not a dynamic executable"* ]] ||
        die "$busybox is not statically linked; install busybox-static"

# checksum FILE...
checksum() {
        cat "$@" | sha256sum | cut -d' ' -f1
}

# stamp_matches NAME VALUE
stamp_matches() {
        [[ -f $cache_dir/$1.stamp && $(cat "$cache_dir/$1.stamp") == "$2" ]]
}

mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[[ -n $mirror ]] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[[ -n $mirror ]] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"

# Kernel: the package that linux-image-amd64 depends on, unpacked.
fetch_kernel() {
        local package version work
        package=$(apt-cache depends linux-image-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
        [[ -n $package ]] || die "apt-cache depends linux-image-amd64 names no kernel package; run apt-get update"
        version=${package#linux-image-}
        if [[ -f $cache_dir/kernel/version && $(cat "$cache_dir/kernel/version") == "$version" ]]; then
                return 0
        fi
        info "downloading $package"
        rm -rf "$cache_dir/kernel"
        work=$(mktemp -d "$cache_dir/kernel.XXXXXX")
        # apt-get would download as user _apt, who cannot write into a
        # directory of root's.
        (cd "$work" && apt-get download -o APT::Sandbox::User=root "$package" >/dev/null) || die "apt-get download $package failed"
        dpkg -x "$work"/"$package"_*.deb "$work/tree"
        [[ -f $work/tree/boot/vmlinuz-$version ]] || die "$package has no /boot/vmlinuz-$version"
        mv "$work/tree/boot/vmlinuz-$version" "$work/vmlinuz"
        mv "$work/tree/lib/modules/$version" "$work/modules"
        rm -rf "$work/tree" "$work"/*.deb
        echo "$version" >"$work/version"
        mv "$work" "$cache_dir/kernel"
}

# Copies the modules the guest may load (file systems, networking,
# netfilter, virtio) into the tree and indexes them with the tree's depmod.
install_modules() {
        local version source target dir
        version=$(cat "$cache_dir/kernel/version")
        source=$cache_dir/kernel/modules
        target=$rootfs/lib/modules/$version
        rm -rf "$target"
        mkdir -p "$target/kernel/drivers"
        cp -a "$source"/modules.builtin "$source"/modules.builtin.modinfo "$source"/modules.order "$target/"
        for dir in fs net lib crypto arch block mm virt; do
                [[ -d $source/kernel/$dir ]] && cp -a "$source/kernel/$dir" "$target/kernel/"
        done
        for dir in virtio block char net; do
                cp -a "$source/kernel/drivers/$dir" "$target/kernel/drivers/"
        done
        rm -rf "$target"/kernel/drivers/net/{wireless,ethernet,usb,can,ieee802154,wwan}
        chroot "$rootfs" depmod "$version"
}

build_rootfs() {
        local unit
        rm -rf "$rootfs" "$rootfs.new"
        mkdir -p "$cache_dir/debs"
        info "debootstrap $SUITE from $mirror"
        debootstrap --variant=minbase --cache-dir="$cache_dir/debs" \
                --include="$(
                        IFS=,
                        echo "${PACKAGES[*]}"
                )" \
                "$SUITE" "$rootfs.new" "$mirror" >"$cache_dir/debootstrap.log" 2>&1 || {
                tail -n 30 "$cache_dir/debootstrap.log" >&2
                die "debootstrap failed; log in $cache_dir/debootstrap.log"
        }

        echo apprunner-vm >"$rootfs.new/etc/hostname"
        printf '/dev/vda / ext4 rw,noatime 0 1\n' >"$rootfs.new/etc/fstab"
        chroot "$rootfs.new" passwd -d root >/dev/null
        # A machine ID now, because an empty /etc/machine-id makes the first
        # boot run `systemctl preset-all`.
        chroot "$rootfs.new" systemd-id128 new >"$rootfs.new/etc/machine-id"
        for unit in "${MASKED_UNITS[@]}"; do
                ln -sf /dev/null "$rootfs.new/etc/systemd/system/$unit"
        done
        install -m 0644 "$script_dir/vmtest.target" "$script_dir/vmtest.service" "$rootfs.new/etc/systemd/system/"
        rm -rf "$rootfs.new"/var/cache/apt/*.bin "$rootfs.new"/var/lib/apt/lists/*
        mv "$rootfs.new" "$rootfs"
        install_modules
}

build_initramfs() {
        local version work module file
        version=$(cat "$cache_dir/kernel/version")
        work=$(mktemp -d "$cache_dir/initramfs.XXXXXX")
        mkdir -p "$work"/{bin,dev,proc,sys,newroot,modules}
        cp "$busybox" "$work/bin/busybox"
        : >"$work/modules.list"
        for module in "${INITRAMFS_MODULES[@]}"; do
                file=$(find "$cache_dir/kernel/modules/kernel" -name "$module.ko" -print -quit)
                [[ -n $file ]] || die "module $module.ko not found in kernel $version"
                cp "$file" "$work/modules/"
                echo "$module.ko" >>"$work/modules.list"
        done
        install -m 0755 "$script_dir/initramfs-init.sh" "$work/init"
        (cd "$work" && find . | cpio -o -H newc --quiet | gzip -1 >"$cache_dir/initrd.cpio.gz.new")
        rm -rf "$work"
        mv "$cache_dir/initrd.cpio.gz.new" "$cache_dir/initrd.cpio.gz"
}

rootfs=$cache_dir/rootfs
fetch_kernel

# The modules in the tree and in the initramfs belong to the kernel, so a
# new kernel version rebuilds both.
kernel_version_file=$cache_dir/kernel/version
rootfs_stamp=$(checksum "${BASH_SOURCE[0]}" "$script_dir/vmtest.target" "$script_dir/vmtest.service" "$kernel_version_file")
initrd_stamp=$(checksum "${BASH_SOURCE[0]}" "$script_dir/initramfs-init.sh" "$busybox" "$kernel_version_file")

if stamp_matches rootfs "$rootfs_stamp" && [[ -f $cache_dir/root.ext4 ]]; then
        info "root image $cache_dir/root.ext4 is up to date"
else
        rm -f "$cache_dir/rootfs.stamp"
        build_rootfs
        info "writing $cache_dir/root.ext4 ($IMAGE_SIZE, sparse)"
        rm -f "$cache_dir/root.ext4.new"
        truncate -s "$IMAGE_SIZE" "$cache_dir/root.ext4.new"
        mkfs.ext4 -q -F -L apprunner-vm -d "$rootfs" "$cache_dir/root.ext4.new"
        mv "$cache_dir/root.ext4.new" "$cache_dir/root.ext4"
        echo "$rootfs_stamp" >"$cache_dir/rootfs.stamp"
fi

if stamp_matches initrd "$initrd_stamp" && [[ -f $cache_dir/initrd.cpio.gz ]]; then
        info "initramfs $cache_dir/initrd.cpio.gz is up to date"
else
        rm -f "$cache_dir/initrd.stamp"
        build_initramfs
        echo "$initrd_stamp" >"$cache_dir/initrd.stamp"
fi
