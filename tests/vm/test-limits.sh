#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The kernel enforces an instance's Cpu and Memory, and apprunnerd replaces
# an instance that the OOM killer ended. Runs inside the test VM (see
# run.sh), where cgroup v2 controllers work, unlike in the systemd-nspawn
# container of tests/integration/.
#
# The service runs with 0.25 vCPU and 0.5 GB (Cpu 256, Memory 512, App
# Runner's smallest configuration). Its image, which run.sh builds into
# /shared/layout, is busybox httpd with two CGI scripts: /cgi-bin/spin
# starts a busy loop of one process for 60 s, and /cgi-bin/hog runs dd with
# a 700 MB buffer. Figures are printed as "--- vm: ..." lines.

. "$IT_SRC/tests/integration/lib.sh"
. "$IT_SRC/tests/integration/fixtures/service-lib.sh"

name=vmlimits
text="vm limits"
# apprunnerd reads the layout from the VM's disk, not from the 9p share.
layout=$IT_SCRATCH/layout
# Wall time over which the busy loop's CPU time is measured, in seconds.
measure_seconds=6
# Seconds to wait for a service or an instance. Under TCG on 2 host CPUs a
# service reached RUNNING within 30 s, so this leaves room for slower hosts.
wait_timeout=300

mkdir -p "$IT_SCRATCH"
rm -rf "$layout"
cp -a "$VM_SHARED/layout" "$layout"
at_exit "rm -rf '$layout'"
start_apprunnerd

source_config=$(jq -cn --arg id "oci:$layout:limits" '{ImageRepository: {ImageIdentifier: $id,
        ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: {Port: "8080"}}}')
at_exit "delete_service_quietly $name"
url=$(apprunnerctl create-service --service-name "$name" --source-configuration "$source_config" \
        --instance-configuration '{"Cpu": "256", "Memory": "512"}' | jq -r .Service.ServiceUrl)
assert_ok apprunnerctl wait service-running --service-arn "$name" --timeout "$wait_timeout"
wait_until 60 ingress_returns "$url" "$text"

instances=$(apprunnerctl list-instances --service-arn "$name")
assert_eq 1 "$(jq '.Instances | length' <<<"$instances")" "number of instances"
unit=$(jq -r '.Instances[0].UnitName' <<<"$instances")
address=$(jq -r '.Instances[0].Address' <<<"$instances")
cgroup=/sys/fs/cgroup$(systemctl show -P ControlGroup "$unit")
[[ -d $cgroup ]] || fail "cgroup $cgroup of $unit does not exist"
log "vm: instance unit $unit, address $address, cgroup $cgroup"

log "the unit carries the limits of Cpu 256 and Memory 512"
limits=$(systemctl show -p MemoryMax,CPUQuotaPerSecUSec,TasksMax "$unit")
while read -r line; do
        log "vm: $unit $line"
done <<<"$limits"
assert_eq 536870912 "$(systemctl show -P MemoryMax "$unit")" "MemoryMax of $unit"
assert_eq 250ms "$(systemctl show -P CPUQuotaPerSecUSec "$unit")" "CPUQuotaPerSecUSec of $unit"
log "vm: $cgroup/memory.max: $(cat "$cgroup/memory.max"), cpu.max: $(cat "$cgroup/cpu.max"), pids.max: $(cat "$cgroup/pids.max")"
assert_eq 536870912 "$(cat "$cgroup/memory.max")" "memory.max of $unit"
assert_eq "25000 100000" "$(cat "$cgroup/cpu.max")" "cpu.max of $unit"
assert_eq 0 "$(cat "$cgroup/memory.swap.max")" "memory.swap.max of $unit"

# cpu_stat FIELD
# Prints FIELD of the instance cgroup's cpu.stat.
cpu_stat() {
        awk -v field="$1" '$1 == field { print $2 }' "$cgroup/cpu.stat"
}

log "a busy loop in the instance gets about 0.25 CPU"
assert_eq started "$(curl -fsS --max-time 30 "http://$address:8080/cgi-bin/spin")" "reply of /cgi-bin/spin"
# Let the loop run into the quota before measuring.
sleep 2
usage_start=$(cpu_stat usage_usec)
throttled_start=$(cpu_stat nr_throttled)
wall_start=$(date +%s%N)
sleep "$measure_seconds"
usage_end=$(cpu_stat usage_usec)
throttled_end=$(cpu_stat nr_throttled)
wall_end=$(date +%s%N)
wall_usec=$(((wall_end - wall_start) / 1000))
usage_usec=$((usage_end - usage_start))
throttled=$((throttled_end - throttled_start))
ratio=$(awk -v usage="$usage_usec" -v wall="$wall_usec" 'BEGIN { printf "%.3f", usage / wall }')
log "vm: cpu: usage ${usage_usec}us over ${wall_usec}us of wall time = $ratio CPU (quota 0.25), nr_throttled +$throttled"
log "vm: cpu.stat: $(tr '\n' ' ' <"$cgroup/cpu.stat")"
awk -v r="$ratio" 'BEGIN { exit !(r <= 0.40) }' ||
        fail "the instance used $ratio CPU, more than 0.40 with a quota of 0.25"
# A ratio near 0 would mean the loop did not run, which proves nothing.
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.10) }' ||
        fail "the instance used $ratio CPU, less than 0.10: the busy loop did not run"
[[ $throttled -gt 0 ]] || fail "nr_throttled of $unit did not grow during the busy loop"

log "an instance that allocates more than its Memory is OOM-killed and replaced"
slice_cgroup=${cgroup%/*}
# memory.events of the slice counts the events of every cgroup below it
# (unless the memory_localevents mount option is set), and it outlives the
# instance's unit, which systemd removes once it failed.
slice_oom_kills() {
        awk '$1 == "oom_kill" { print $2 }' "$slice_cgroup/memory.events"
}
oom_kills_before=$(slice_oom_kills)
journal_cursor=$(journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p')
# The request fails when the kernel kills dd, which is the CGI process.
hog_reply=$(curl -sS --max-time 120 "http://$address:8080/cgi-bin/hog" 2>&1 || true)
log "vm: reply of /cgi-bin/hog: ${hog_reply:-(none)}"

# unit_failed_with_oom_kill
# Succeeds once systemd has logged the old unit's result.
unit_failed_with_oom_kill() {
        journalctl -u "$unit" --after-cursor="$journal_cursor" --no-pager -o cat |
                grep -F "Failed with result 'oom-kill'"
}
wait_until 120 unit_failed_with_oom_kill
log "vm: journal of $unit: $(unit_failed_with_oom_kill)"
oom_kills_after=$(slice_oom_kills)
log "vm: oom_kill in $slice_cgroup/memory.events: $oom_kills_before before, $oom_kills_after after"
[[ $oom_kills_after -gt $oom_kills_before ]] ||
        fail "oom_kill of $slice_cgroup/memory.events did not grow ($oom_kills_before before, $oom_kills_after after)"
kernel_oom=$(journalctl -k --after-cursor="$journal_cursor" --no-pager -o cat | grep -E 'Memory cgroup out of memory|oom-kill:' || true)
while read -r line; do
        log "vm: kernel: $line"
done <<<"$kernel_oom"
assert_contains "$kernel_oom" "Memory cgroup out of memory" "kernel log after /cgi-bin/hog"
assert_contains "$kernel_oom" "task_memcg=${cgroup#/sys/fs/cgroup}" "cgroup of the OOM-killed task"

# instance_replaced
# Succeeds once the service's only instance has a new unit and is healthy.
instance_replaced() {
        local instances
        instances=$(apprunnerctl list-instances --service-arn "$name")
        [[ $(jq '.Instances | length' <<<"$instances") -eq 1 &&
                $(jq -r '.Instances[0].UnitName' <<<"$instances") != "$unit" &&
                $(jq -r '.Instances[0].State' <<<"$instances") == healthy ]]
}
wait_until "$wait_timeout" instance_replaced
instances=$(apprunnerctl list-instances --service-arn "$name")
new_unit=$(jq -r '.Instances[0].UnitName' <<<"$instances")
new_address=$(jq -r '.Instances[0].Address' <<<"$instances")
log "vm: replacement instance unit $new_unit ($(systemctl show -P ActiveState "$new_unit")), address $new_address"
assert_eq active "$(systemctl show -P ActiveState "$new_unit")" "ActiveState of $new_unit"
assert_eq RUNNING "$(service_status "$name")" "service status after the replacement"
assert_eq "$text" "$(curl -fsS --max-time 30 "http://$new_address:8080/")" "page from the replacement instance"
wait_until 60 ingress_returns "$url" "$text"
assert_eq 536870912 "$(systemctl show -P MemoryMax "$new_unit")" "MemoryMax of $new_unit"
log "vm: service $name is $(service_status "$name"), and the replacement instance returns its page on $new_address:8080 and through the ingress"

delete_service "$name"
wait_until 120 service_gone "$name"
assert_no_leftovers "left behind after delete-service"
