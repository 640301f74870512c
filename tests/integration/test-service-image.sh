#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs a service from a local OCI image layout through create, pause, resume
# and delete. Each step checks what systemd, the journal, the instance
# address and the ingress show. The last check is that nothing is left.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

name=hello-web
layout=$IT_SCRATCH/img-$$
at_exit "rm -rf '$layout'"

log "build the busybox image layout"
build_image "$layout" v1 "hello v1"

log "start apprunnerd"
start_apprunnerd

log "apprunnerd shares the mount namespace of PID 1"
# The instances' units start in PID 1's mount namespace and must see the
# overlay roots and /run/netns bind mounts that apprunnerd makes.
main_pid=$(systemctl show -P MainPID apprunnerd.service)
assert_eq "$(readlink /proc/1/ns/mnt)" "$(readlink "/proc/$main_pid/ns/mnt")" "apprunnerd's mount namespace"

log "create-service from oci:$layout:v1"
# The start command prints a marker, so the test can find the app's output in
# the journal. busybox httpd logs nothing without -v.
marker="hello-web-started-$RANDOM$RANDOM"
source_config=$(jq -cn --arg id "oci:$layout:v1" --arg cmd "echo $marker; exec httpd -f -v -p \$PORT -h /www" \
        '{ImageRepository: {ImageIdentifier: $id, ImageRepositoryType: "OCI_LAYOUT",
          ImageConfiguration: {Port: "8080", StartCommand: $cmd}}}')
created=$(apprunnerctl create-service --service-name "$name" --source-configuration "$source_config" \
        --instance-configuration '{"Cpu": "0.25 vCPU", "Memory": "0.5 GB"}')
at_exit "delete_service_quietly $name"
id=$(jq -r .Service.ServiceId <<<"$created")
url=$(jq -r .Service.ServiceUrl <<<"$created")
assert_eq OPERATION_IN_PROGRESS "$(jq -r .Service.Status <<<"$created")" "status right after create-service"

assert_ok apprunnerctl wait service-running --service-arn "$name" --timeout 120
assert_eq RUNNING "$(service_status "$name")" "status after the waiter"

log "the service has one instance with an address"
instances=$(apprunnerctl list-instances --service-arn "$name")
assert_eq 1 "$(jq '.Instances | length' <<<"$instances")" "number of instances"
address=$(jq -r '.Instances[0].Address' <<<"$instances")
unit=$(jq -r '.Instances[0].UnitName' <<<"$instances")
[[ $address =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "instance address '$address' is not an IPv4 address"
assert_eq "apprunner-hello\\x2dweb@" "${unit%%@*}@" "instance unit name"

log "the instance answers on $address:8080"
assert_eq "hello v1" "$(curl -fsS --max-time 5 "http://$address:8080/")" "page from the instance"

log "systemd shows the slice, the unit and its processes"
slice='apprunner-hello\x2dweb.slice'
status=$(systemctl status --no-pager --lines=0 "$slice" || true)
assert_contains "$status" "$unit"
assert_contains "$status" "crun"
assert_contains "$status" "httpd"
assert_eq active "$(systemctl is-active "$unit")" "state of $unit"

log "the unit carries the instance configuration's limits"
assert_eq 536870912 "$(systemctl show -P MemoryMax "$unit")" "MemoryMax (0.5 GB)"
assert_eq 250ms "$(systemctl show -P CPUQuotaPerSecUSec "$unit")" "CPUQuotaPerSecUSec (0.25 vCPU)"
tasks_max=$(systemctl show -P TasksMax "$unit")
[[ $tasks_max =~ ^[0-9]+$ && $tasks_max -gt 0 ]] || fail "TasksMax of $unit is '$tasks_max'"

log "the journal has the app's output under its unit and the service id"
wait_until 10 sh -c "journalctl --no-pager -o cat -u '$unit' | grep -q -- '$marker'"
journal=$(journalctl --no-pager -o cat APPRUNNER_SERVICE_ID="$id")
assert_contains "$journal" "$marker" "the app's output, found by APPRUNNER_SERVICE_ID"
assert_contains "$journal" "Started instance" "apprunnerd's lines, found by APPRUNNER_SERVICE_ID"

log "the ingress routes $url to the instance"
wait_until 20 ingress_returns "$url" "hello v1"

log "the Service object counts the requests that passed the ingress"
service_path=$(manager_call GetService s "$name" | jq -r '.data[0]')
service_stat() {
        bus_property "$service_path" org.apprunner1.Service "$1" | jq -r .data
}
# The figures are read from HAProxy at most once per second, so each
# reading waits for the previous one to expire.
sleep 1.1
requests_before=$(service_stat RequestCount)
ok_before=$(service_stat Responses2xx)
for _ in 1 2 3 4 5; do
        curl -fsS -o /dev/null --max-time 5 -H "Host: $url" http://127.0.0.1/ || fail "request through the ingress failed"
done
curl -s -o /dev/null --max-time 5 -H "Host: $url" http://127.0.0.1/no-such-page
sleep 1.1
requests_after=$(service_stat RequestCount)
assert_eq 6 "$((requests_after - requests_before))" "RequestCount after six requests (before: $requests_before)"
assert_eq 5 "$(($(service_stat Responses2xx) - ok_before))" "Responses2xx after five pages"
[[ $(service_stat Responses4xx) -ge 1 ]] || fail "Responses4xx is $(service_stat Responses4xx) after a 404"
assert_eq 0 "$(service_stat QueuedRequests)" "QueuedRequests when idle"

log "pause-service stops the instance and the URL answers 503"
# busybox httpd runs as the container's PID 1 without a SIGTERM handler,
# so its unit takes the whole stop timeout (3 s). apprunnerd replies in the
# meantime, so the Service that pause-service reads back is still in progress.
paused=$(apprunnerctl pause-service --service-arn "$name")
op=$(jq -r .OperationId <<<"$paused")
assert_eq OPERATION_IN_PROGRESS "$(jq -r .Service.Status <<<"$paused")" "Status in the pause-service output"
assert_eq OPERATION_IN_PROGRESS "$(service_status "$name")" "status read while the instance stops"
assert_ok apprunnerctl wait operation-complete --operation-id "$op" --timeout 60
assert_eq PAUSED "$(service_status "$name")" "status after pause"
assert_eq "" "$(systemctl list-units --all --plain --no-legend "apprunner-hello\\x2dweb@*")" "instance units while paused"
code=$(curl -s -o "$IT_SCRATCH/paused-$$.html" -w '%{http_code}' --max-time 5 -H "Host: $url" http://127.0.0.1/)
assert_eq 503 "$code" "HTTP status while paused"
assert_contains "$(cat "$IT_SCRATCH/paused-$$.html")" "paused"
rm -f "$IT_SCRATCH/paused-$$.html"

log "resume-service brings it back behind the same URL"
op=$(apprunnerctl resume-service --service-arn "$name" | jq -r .OperationId)
assert_ok apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
assert_eq RUNNING "$(service_status "$name")" "status after resume"
wait_until 20 ingress_returns "$url" "hello v1"

log "delete-service leaves nothing behind"
delete_service "$name"
wait_until 60 service_gone "$name"
assert_no_leftovers "left behind after delete-service"
assert_eq "" "$(findmnt -rn -t overlay -o TARGET | grep /var/lib/apprunner || true)" "overlay mounts"
