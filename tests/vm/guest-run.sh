#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs inside the test VM as vmtest.service, after multi-user.target. Runs
# each test named in /shared/tests (one script name of tests/vm/ per line)
# with `timeout $TEST_TIMEOUT bash /src/tests/vm/NAME`, and writes for each:
#
#   /shared/results/NAME.log      the test's stdout and stderr
#   /shared/results/NAME.status   its exit status
#   /shared/results/NAME.seconds  its wall time
#
# then the boot's journal to /shared/results/journal.txt, and ends the VM
# through qemu's isa-debug-exit device: qemu exits with status 1 when every
# test passed (or was skipped with status 77) and with status 3 otherwise.
# run.sh writes TEST_TIMEOUT to /shared/config.

set -uo pipefail

results=/shared/results
TEST_TIMEOUT=600
# shellcheck source=/dev/null
[[ -f /shared/config ]] && . /shared/config

mkdir -p "$results"

# exit_vm STATUS
# Writes STATUS to the isa-debug-exit port (0xf4), so qemu exits at once
# with status (STATUS << 1) | 1.
exit_vm() {
        sync
        printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=$((0xf4)) count=1 status=none
        # Reached only when the device is missing: vmtest.service's
        # SuccessAction= and FailureAction= power the VM off.
        exit "$1"
}

echo "vmtest: kernel $(uname -r), $(nproc) CPUs, $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) kB memory"
echo "vmtest: cgroup file system $(stat -fc %T /sys/fs/cgroup), controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
echo "vmtest: system state $(systemctl is-system-running), uptime $(cut -d' ' -f1 /proc/uptime)s"
systemctl --failed --no-legend --plain | sed 's/^/vmtest: failed unit: /'

failed=0
while read -r name; do
        [[ -n $name ]] || continue
        echo "vmtest: running $name"
        start=$(date +%s.%N)
        status=0
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
                IT_SRC=/src IT_SCRATCH=/var/tmp/apprunner-vm VM_SHARED=/shared \
                timeout -k 10 "$TEST_TIMEOUT" /bin/bash "/src/tests/vm/$name" \
                >"$results/$name.log" 2>&1 || status=$?
        awk -v start="$start" -v end="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", end - start }' \
                >"$results/$name.seconds"
        echo "$status" >"$results/$name.status"
        echo "vmtest: $name exited with status $status after $(cat "$results/$name.seconds")s"
        [[ $status -eq 0 || $status -eq 77 ]] || failed=1
done </shared/tests

journalctl -b --no-pager -o short-monotonic >"$results/journal.txt" 2>&1
exit_vm "$failed"
