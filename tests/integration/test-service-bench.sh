#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Measures, for an image already in the image store, the time from
# CreateService to the first HTTP 200 through the ingress, and the memory
# of one instance's processes. Prints the figures as "--- bench:" lines in
# the test log; fails only when a step fails.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

layout=$IT_SCRATCH/bench-img-$$
at_exit "rm -rf '$layout'"
build_image "$layout" v1 "hello v1"
start_apprunnerd

now_ms() {
        echo $(($(date +%s%N) / 1000000))
}

# create_and_time NAME HEALTH_JSON
# Creates a service and prints the milliseconds until the ingress returns 200.
create_and_time() {
        local source_config start url
        source_config=$(jq -cn --arg id "oci:$layout:v1" '{ImageRepository: {ImageIdentifier: $id,
                ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: {Port: "8080"}}}')
        start=$(now_ms)
        url=$(apprunnerctl create-service --service-name "$1" --source-configuration "$source_config" \
                --health-check-configuration "$2" | jq -r .Service.ServiceUrl)
        while ! curl -fs -o /dev/null --max-time 1 -H "Host: $url" http://127.0.0.1/; do
                [[ $(($(now_ms) - start)) -lt 60000 ]] || fail "$1 did not return 200 within 60 s"
                sleep 0.01
        done
        echo $(($(now_ms) - start))
}

# The first service pulls and unpacks the image; later ones find it cached.
at_exit "delete_service_quietly bench-warm"
create_and_time bench-warm '{"Protocol": "TCP"}' >/dev/null

for health in '{"Protocol": "TCP"}' '{"Protocol": "TCP", "Interval": 1}'; do
        for run in 1 2 3; do
                at_exit "delete_service_quietly bench-$run"
                ms=$(create_and_time "bench-$run" "$health")
                log "bench: CreateService to first 200 through the ingress, cached image, health check $health: $ms ms"
                # The ingress serves the new instance a moment before the
                # operation ends, and DeleteService fails until it has.
                apprunnerctl wait service-running --service-arn "bench-$run" --timeout 60
                delete_service "bench-$run"
                wait_until 60 service_gone "bench-$run"
        done
done

log "memory of one instance"
unit=$(apprunnerctl list-instances --service-arn bench-warm | jq -r '.Instances[0].UnitName')
log "bench: MemoryCurrent of $unit: $(systemctl show -P MemoryCurrent "$unit")"
cgroup=$(systemctl show -P ControlGroup "$unit")
for procs in /sys/fs/cgroup/unified"$cgroup"/cgroup.procs /sys/fs/cgroup"$cgroup"/cgroup.procs; do
        [[ -r $procs ]] && break
done
while read -r pid; do
        log "bench: process $pid $(cat "/proc/$pid/comm"): VmRSS $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$pid/status"), Pss $(awk '/^Pss:/ { print $2, $3 }' "/proc/$pid/smaps_rollup")"
done <"$procs"

delete_service bench-warm
wait_until 60 service_gone bench-warm
assert_no_leftovers "left behind after the benchmark"
