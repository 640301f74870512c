#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The autoscaler: a service with MaxConcurrency 1, MinSize 1 and MaxSize 3
# gets three slow requests at once. apprunnerd starts two more instances,
# the queued requests go to them, and every request succeeds. When the
# requests have ended, the service drains and stops instances until MinSize
# is left, and it serves throughout. The test runs apprunnerd with
# [AutoScaling] ScaleIntervalSec=1 and ScaleInDelaySec=2.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

name=scale-web
layout=$IT_SCRATCH/autoscale-img-$$
scratch=$IT_SCRATCH/autoscale-$$
conf=/etc/apprunner/apprunnerd.conf.d/50-it-autoscale.conf
mkdir -p "$scratch"
at_exit "rm -rf '$layout' '$scratch'"

build_app_image "$layout" v1 "scale page"

mkdir -p "${conf%/*}"
at_exit "rm -f '$conf'; systemctl restart apprunnerd.service"
printf '[AutoScaling]\nScaleIntervalSec=1\nScaleInDelaySec=2\n' >"$conf"
start_apprunnerd
restart_apprunnerd

# The auto scaling configuration is deleted after the service that uses it,
# so its at_exit command is registered first.
asc_arn=$(apprunnerctl create-auto-scaling-configuration --auto-scaling-configuration-name scale-test \
        --max-concurrency 1 --min-size 1 --max-size 3 |
        jq -r .AutoScalingConfiguration.AutoScalingConfigurationArn)
at_exit "apprunnerctl delete-auto-scaling-configuration --auto-scaling-configuration-arn '$asc_arn' >/dev/null 2>&1"

source_config=$(jq -cn --arg id "oci:$layout:v1" '{ImageRepository: {ImageIdentifier: $id,
        ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: {Port: "8080"}}}')
at_exit "delete_service_quietly $name"
url=$(apprunnerctl create-service --service-name "$name" --source-configuration "$source_config" \
        --auto-scaling-configuration-arn "$asc_arn" | jq -r .Service.ServiceUrl)
assert_ok apprunnerctl wait service-running --service-arn "$name" --timeout 120
wait_until 20 ingress_returns "$url" "scale page"

# instance_count [STATE]: the number of the service's instances, or of
# those in STATE.
instance_count() {
        apprunnerctl list-instances --service-arn "$name" |
                jq --arg state "${1:-}" '[.Instances[] | select($state == "" or .State == $state)] | length'
}
assert_eq 1 "$(instance_count)" "instances before the load"

log "three 8 s requests at once start two more instances"
for k in 1 2 3; do
        curl -sS --max-time 60 -o "$scratch/body-$k" -w '%{http_code}' -H "Host: $url" \
                "http://127.0.0.1/cgi-bin/sleep?8" >"$scratch/status-$k" 2>&1 &
done
wait_until 20 eval '[[ $(instance_count healthy) -eq 3 ]]'
log "instances under load: $(instance_count healthy) healthy"
wait
for k in 1 2 3; do
        assert_eq 200 "$(cat "$scratch/status-$k")" "status of request $k"
        assert_eq "slept 8" "$(cat "$scratch/body-$k")" "body of request $k"
done
journal=$(journalctl -u apprunnerd.service --no-pager -o cat)
assert_contains "$journal" "Scaling service $name out from 1 to" "journal line of the scale-out"

log "without requests the service scales in to MinSize and keeps serving"
wait_until 40 eval '[[ $(instance_count) -eq 1 ]]'
assert_ok ingress_returns "$url" "scale page"
journal=$(journalctl -u apprunnerd.service --no-pager -o cat)
assert_contains "$journal" "Scaling service $name in from" "journal line of the scale-in"

delete_service "$name"
wait_until 60 service_gone "$name"
assert_no_leftovers "left behind after delete-service"
