#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# /init of the test VM's initramfs (built by mkimage.sh): loads the modules
# in /modules.list, mounts the root image /dev/vda and two 9p shares of the
# host, copies /shared/inject over the root, then starts systemd.
#
#   9p tag "shared" -> /shared  read-write: the build to install, the test
#                               image and the results
#   9p tag "src"    -> /src     read-only: the source tree
#
# Every failure powers the VM off, so qemu exits and run.sh reports it.

B=/bin/busybox

fail() {
        echo "initramfs: $*"
        $B poweroff -f
}

$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev

for module in $($B cat /modules.list); do
        $B insmod "/modules/$module" || echo "initramfs: insmod $module failed"
done

# virtio_blk probes asynchronously.
for i in $($B seq 50); do
        [ -b /dev/vda ] && break
        $B sleep 0.2
done
$B mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount /dev/vda"

$B mkdir -p /newroot/shared /newroot/src
$B mount -t 9p -o trans=virtio,version=9p2000.L,rw,msize=512000 shared /newroot/shared ||
        fail "cannot mount the 9p share 'shared'"
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000 src /newroot/src ||
        fail "cannot mount the 9p share 'src'"
if [ -d /newroot/shared/inject ]; then
        $B cp -a /newroot/shared/inject/. /newroot/ || fail "cannot copy /shared/inject into the root"
fi

$B umount /proc /sys
$B mount --move /dev /newroot/dev
exec $B switch_root /newroot /lib/systemd/systemd
