#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Boot a qemu VM with real systemd and cgroup v2, install the build into it,
# run the VM tests inside it and print TAP.
#
#   tests/vm/run.sh [BUILD_DIR]
#
# BUILD_DIR defaults to ./build and must already be built with prefix /usr:
# this script only runs `meson install --destdir`. Must run as root.
#
# Unlike tests/integration/, whose systemd-nspawn container has read-only
# cgroup controllers, the VM's kernel enforces MemoryMax=, CPUQuota= and
# TasksMax= on the instance units, so tests here check enforcement.
#
# Steps:
#   1. mkimage.sh builds, or finds up to date, the kernel, a Debian 12 root
#      image and an initramfs in VM_CACHE_DIR. The first run downloads
#      packages from the host's Debian mirror; later runs reuse the cache.
#   2. The work directory (/var/tmp/apprunner-vm.XXXXXX) gets a copy of the
#      root image, `meson install --destdir shared/inject` of the build, and
#      the test image (an OCI layout built with umoci) in shared/layout.
#   3. qemu boots the VM (TCG, because KVM is not usable on every
#      development machine) with shared/ as 9p share "shared" and the source
#      tree as read-only share "src". The initramfs copies shared/inject over
#      the root, and systemd boots vmtest.target. Its vmtest.service runs
#      guest-run.sh, which runs each test-*.sh of this directory, writes
#      logs to shared/results/ and ends qemu through the isa-debug-exit
#      device.
#   4. This script prints one TAP line per test from shared/results/, and
#      every "--- vm: " line of the test's output as a TAP comment.
#
# Environment:
#   VM_CACHE_DIR=/var/cache/apprunner-vm  kernel, images and package cache
#   VM_TIMEOUT=1200     seconds qemu may run, boot and all tests together
#   TEST_TIMEOUT=900    seconds each test may run inside the VM
#   VM_MEMORY=2G        memory of the VM (qemu -m)
#   VM_CPUS=2           virtual CPUs of the VM
#   KEEP=1              keep the work directory (serial console log,
#                       results, the guest's journal) after the run
#   VM_WORKDIR_BASE=/var/tmp   where the work directory is created

set -euo pipefail

VM_CACHE_DIR=${VM_CACHE_DIR:-/var/cache/apprunner-vm}
VM_TIMEOUT=${VM_TIMEOUT:-1200}
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
VM_MEMORY=${VM_MEMORY:-2G}
VM_CPUS=${VM_CPUS:-2}
KEEP=${KEEP:-0}

die() {
        echo "run.sh: $*" >&2
        exit 2
}

info() {
        echo "# $*"
}

now() {
        date +%s.%N
}

elapsed_since() {
        awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'
}

tap_comment() {
        sed 's/^/# /'
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_root=$(cd "$script_dir/../.." && pwd)

[[ $EUID -eq 0 ]] || die "must run as root (debootstrap, chroot and umoci unpack need it)"
for tool in meson jq qemu-system-x86_64 umoci busybox timeout; do
        command -v "$tool" >/dev/null || die "$tool not found; run .ci/run or install it"
done

build_dir=${1:-build}
[[ -f $build_dir/build.ninja ]] || die "$build_dir is not a meson build directory; run: meson setup $build_dir --prefix=/usr && ninja -C $build_dir"
build_dir=$(cd "$build_dir" && pwd)
prefix=$(meson introspect --buildoptions "$build_dir" | jq -r '.[] | select(.name == "prefix") | .value')
[[ $prefix == /usr ]] || die "$build_dir has prefix '$prefix'; the VM needs a build with --prefix=/usr"
if command -v ninja >/dev/null && ! ninja -C "$build_dir" -n 2>/dev/null | grep -q "no work to do"; then
        info "WARNING: $build_dir is not up to date; run ninja -C $build_dir first"
fi

tests=()
for path in "$script_dir"/test-*.sh; do
        [[ -e $path ]] && tests+=("${path##*/}")
done
[[ ${#tests[@]} -gt 0 ]] || die "no test-*.sh in $script_dir"

run_start=$(now)
work_dir=
exit_status=0

teardown() {
        local status=$?
        set +e
        [[ $status -ne 0 && $exit_status -eq 0 ]] && exit_status=$status
        if [[ -n $work_dir ]]; then
                if [[ $KEEP == 1 || $exit_status -ne 0 ]]; then
                        # The root image copy is large and only useful to rerun.
                        rm -f "$work_dir/root.ext4"
                        info "kept $work_dir (serial.log, shared/results/)"
                else
                        rm -rf "$work_dir"
                fi
        fi
        info "total time $(elapsed_since "$run_start")s"
        exit "$exit_status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step_start=$(now)
"$script_dir/mkimage.sh" "$VM_CACHE_DIR" | tap_comment
info "image cache ready in $(elapsed_since "$step_start")s"

work_dir=$(mktemp -d "${VM_WORKDIR_BASE:-/var/tmp}/apprunner-vm.XXXXXX")
shared=$work_dir/shared
mkdir -p "$shared/inject" "$shared/results"
info "work directory $work_dir"

# Every run boots a fresh copy of the root image, so no run depends on
# files that an earlier run left.
cp --sparse=always "$VM_CACHE_DIR/root.ext4" "$work_dir/root.ext4"

DESTDIR=$shared/inject meson install -C "$build_dir" --no-rebuild --quiet >"$work_dir/install.log" 2>&1 || {
        tap_comment <"$work_dir/install.log"
        die "meson install into $shared/inject failed"
}

# build_test_image LAYOUT
# Builds the image test-limits.sh runs into the OCI layout LAYOUT, tag
# "limits": the busybox httpd image of tests/unit/image/mkimage.sh serving
# "vm limits", plus a layer with two CGI scripts that httpd runs for
# /cgi-bin/NAME:
#   spin  starts one process that busy-loops for 60 s and replies "started"
#   hog   runs busybox dd with a 700 MB buffer, filled from /dev/zero
build_test_image() {
        local layout=$1 bundle
        TMPDIR=$work_dir "$source_root/tests/unit/image/mkimage.sh" "$layout" limits "vm limits" >/dev/null
        bundle=$work_dir/bundle
        umoci unpack --image "$layout:limits" "$bundle" >/dev/null
        mkdir -p "$bundle/rootfs/www/cgi-bin"
        cat >"$bundle/rootfs/www/cgi-bin/spin" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
/bin/busybox timeout -s KILL 60 /bin/sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
echo started
EOF
        cat >"$bundle/rootfs/www/cgi-bin/hog" <<'EOF'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
exec /bin/busybox dd if=/dev/zero of=/dev/null bs=700M count=1 2>&1
EOF
        chmod 0755 "$bundle/rootfs/www/cgi-bin/spin" "$bundle/rootfs/www/cgi-bin/hog"
        umoci repack --image "$layout:limits" "$bundle" >/dev/null
        rm -rf "$bundle"
}
build_test_image "$shared/layout"

printf '%s\n' "${tests[@]}" >"$shared/tests"
printf 'TEST_TIMEOUT=%q\n' "$TEST_TIMEOUT" >"$shared/config"

info "booting the VM ($VM_CPUS CPUs, $VM_MEMORY, TCG), up to ${VM_TIMEOUT}s"
boot_start=$(now)
qemu_status=0
timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 -nodefaults -no-user-config \
        -accel tcg,thread=multi -cpu max -smp "$VM_CPUS" -m "$VM_MEMORY" \
        -kernel "$VM_CACHE_DIR/kernel/vmlinuz" -initrd "$VM_CACHE_DIR/initrd.cpio.gz" \
        -append "console=ttyS0 panic=-1 loglevel=4 systemd.unified_cgroup_hierarchy=1 systemd.unit=vmtest.target systemd.show_status=1" \
        -drive "file=$work_dir/root.ext4,format=raw,if=virtio,cache=unsafe" \
        -virtfs "local,path=$shared,mount_tag=shared,security_model=none" \
        -virtfs "local,path=$source_root,mount_tag=src,security_model=none,readonly=on" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -no-reboot -display none -serial stdio -monitor none \
        </dev/null >"$work_dir/serial.log" 2>&1 || qemu_status=$?
info "VM ran for $(elapsed_since "$boot_start")s, qemu exit status $qemu_status"

# isa-debug-exit makes qemu exit with (STATUS << 1) | 1: 1 when every test
# passed, 3 when one failed. Anything else means the VM did not finish.
case $qemu_status in
1 | 3) ;;
124) info "qemu timed out after ${VM_TIMEOUT}s" ;;
*) info "the VM ended without reporting a result" ;;
esac

echo "1..${#tests[@]}"
number=0
for name in "${tests[@]}"; do
        number=$((number + 1))
        log=$shared/results/$name.log
        short=${name%.sh}
        if [[ ! -f $shared/results/$name.status ]]; then
                exit_status=1
                echo "not ok $number - $short (no result from the VM)"
                continue
        fi
        status=$(cat "$shared/results/$name.status")
        seconds=$(cat "$shared/results/$name.seconds")
        if [[ $status -eq 0 ]]; then
                echo "ok $number - $short (${seconds}s)"
                grep '^--- vm: ' "$log" | tap_comment || true
        elif [[ $status -eq 77 ]]; then
                echo "ok $number - $short # SKIP $(grep -m1 '^SKIP: ' "$log" | cut -c7- || true)"
        else
                exit_status=1
                if [[ $status -eq 124 ]]; then
                        echo "not ok $number - $short (timed out after ${TEST_TIMEOUT}s)"
                else
                        echo "not ok $number - $short (exit status $status, ${seconds}s)"
                fi
                echo "# --- output of $short"
                tap_comment <"$log"
                echo "# --- last 200 lines of the VM's journal"
                tail -n 200 "$shared/results/journal.txt" 2>/dev/null | tap_comment || true
                echo "# --- last lines of the output of $short"
                tail -n 8 "$log" | tap_comment
        fi
done

if [[ $qemu_status -ne 1 && $qemu_status -ne 3 ]]; then
        exit_status=1
        echo "# --- last 60 lines of the serial console"
        tail -n 60 "$work_dir/serial.log" | tap_comment
fi
