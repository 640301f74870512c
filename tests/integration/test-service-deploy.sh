#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Blue/green deployments of an image service under load, a deployment that
# fails its health check and rolls back, a restart of apprunnerd that keeps
# the instance, the replacement of an instance whose main process dies, and
# the start of an instance that is gone when apprunnerd starts.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

name=deploy-web
layout=$IT_SCRATCH/deploy-img-$$
at_exit "rm -rf '$layout' '$IT_SCRATCH/load-$$'"

build_image "$layout" live "hello v1"
start_apprunnerd

source_config=$(jq -cn --arg id "oci:$layout:live" '{ImageRepository: {ImageIdentifier: $id,
        ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: {Port: "8080"}}}')
at_exit "delete_service_quietly $name"
url=$(apprunnerctl create-service --service-name "$name" --source-configuration "$source_config" |
        jq -r .Service.ServiceUrl)
assert_ok apprunnerctl wait service-running --service-arn "$name" --timeout 120
wait_until 20 ingress_returns "$url" "hello v1"

# load_start FILE
# Requests $url through the ingress in a loop until FILE.stop exists and
# writes one line per request: the body, a space and the HTTP status.
load_start() {
        rm -f "$1" "$1.stop"
        (
                while [[ ! -e $1.stop ]]; do
                        # The body ends with a newline, so strip it to get one line per request.
                        line=$(curl -s --max-time 5 -w ' %{http_code}' -H "Host: $url" http://127.0.0.1/ | tr -d '\n') ||
                                line=curl-failed
                        echo "$line" >>"$1"
                done
        ) &
        load_pid=$!
}

# load_stop FILE
# Ends the loop that load_start began and waits for it.
load_stop() {
        touch "$1.stop"
        wait "$load_pid"
}

log "start-deployment switches from v1 to v2 without failed requests"
build_image "$layout" live "hello v2"
load=$IT_SCRATCH/load-$$
load_start "$load"
op=$(apprunnerctl start-deployment --service-arn "$name" | jq -r .OperationId)
assert_ok apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
wait_until 20 ingress_returns "$url" "hello v2"
load_stop "$load"
total=$(wc -l <"$load")
ok_v1=$(grep -c '^hello v1 200$' "$load" || true)
ok_v2=$(grep -c '^hello v2 200$' "$load" || true)
log "requests during the deployment: $total, v1: $ok_v1, v2: $ok_v2"
unexpected=$(grep -v -e '^hello v[12] 200$' "$load" | sort | uniq -c || true)
assert_eq "" "$unexpected" "requests that failed or returned something else"
assert_eq "hello v1 200" "$(head -n 1 "$load")" "first response"
assert_eq "hello v2 200" "$(tail -n 1 "$load")" "last response"
# Both versions serve for a moment between adding v2 and draining v1, so a
# few v1 responses may follow the first v2 response.
first_v2=$(grep -n -m 1 'v2' "$load" | cut -d: -f1)
mixed=$(tail -n "+$first_v2" "$load" | grep -c 'v1' || true)
log "v1 responses after the first v2 response: $mixed"
assert_eq 1 "$(apprunnerctl list-instances --service-arn "$name" | jq '.Instances | length')" "instances after the deployment"

log "a deployment that fails its health check rolls back and v2 keeps serving"
op=$(apprunnerctl update-service --service-arn "$name" --health-check-configuration \
        '{"Protocol": "HTTP", "Path": "/missing", "Interval": 1, "Timeout": 1, "HealthyThreshold": 1, "UnhealthyThreshold": 2}' |
        jq -r .OperationId)
assert_fail apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
assert_eq ROLLBACK_SUCCEEDED "$(operation_field "$op" Status)" "status of the failed deployment"
assert_contains "$(operation_field "$op" StatusMessage)" "Health check failed" "reason of the rollback"
assert_eq RUNNING "$(service_status "$name")" "service status after the rollback"
assert_ok ingress_returns "$url" "hello v2"
assert_eq 1 "$(apprunnerctl list-instances --service-arn "$name" | jq '.Instances | length')" "instances after the rollback"

log "restarting apprunnerd keeps the instance and its process"
unit=$(apprunnerctl list-instances --service-arn "$name" | jq -r '.Instances[0].UnitName')
pid=$(systemctl show -P MainPID "$unit")
restart_apprunnerd
assert_eq "$unit" "$(apprunnerctl list-instances --service-arn "$name" | jq -r '.Instances[0].UnitName')" "instance unit after the restart"
assert_eq "$pid" "$(systemctl show -P MainPID "$unit")" "MainPID after the restart"
assert_ok ingress_returns "$url" "hello v2"

log "an instance whose main process dies is replaced"
kill -KILL "$pid"
instance_replaced() {
        local instances
        instances=$(apprunnerctl list-instances --service-arn "$name")
        [[ $(jq -r '.Instances[0].UnitName' <<<"$instances") != "$unit" &&
                $(jq -r '.Instances[0].State' <<<"$instances") == healthy ]]
}
wait_until 60 instance_replaced
wait_until 20 ingress_returns "$url" "hello v2"
assert_eq "" "$(systemctl list-units --all --plain --no-legend "$unit")" "the dead instance's unit"

log "an instance that is gone when apprunnerd starts, as after a reboot, is started again"
unit=$(apprunnerctl list-instances --service-arn "$name" | jq -r '.Instances[0].UnitName')
systemctl stop apprunnerd.service
systemctl stop "$unit"
start_apprunnerd
wait_until 60 instance_replaced
wait_until 20 ingress_returns "$url" "hello v2"
assert_eq 1 "$(apprunnerctl list-instances --service-arn "$name" | jq '.Instances | length')" \
        "instances after the start"

log "delete-service leaves nothing behind"
delete_service "$name"
wait_until 60 service_gone "$name"
assert_no_leftovers "left behind after delete-service"
