#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# [Network] Outbound= decides whether instances reach addresses outside
# their subnet. The test builds an "outside" network inside the container's
# private network namespace: a namespace behind a veth pair, with the
# documentation address 198.51.100.2 and no route back to the instance
# subnet, running busybox httpd. Only masqueraded requests get a response
# there. With Outbound=yes (the default) an instance's namespace reaches it,
# and with Outbound=no it does not.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

name=outbound-web
layout=$IT_SCRATCH/outbound-img-$$
www=$IT_SCRATCH/outbound-www-$$
outside=it-outside-$$
conf=/etc/apprunner/apprunnerd.conf.d/50-it-outbound.conf
at_exit "rm -rf '$layout' '$www'"

build_image "$layout" v1 "hello outbound"
start_apprunnerd

log "an outside network at 198.51.100.2 with no route back to the instances"
ip netns add "$outside"
at_exit "ip netns delete '$outside'"
ip link add it-out0 type veth peer name it-out1 netns "$outside"
at_exit "ip link delete it-out0 2>/dev/null || true"
ip address add 198.51.100.1/24 dev it-out0
ip link set it-out0 up
ip -n "$outside" address add 198.51.100.2/24 dev it-out1
ip -n "$outside" link set it-out1 up
ip -n "$outside" link set lo up
mkdir -p "$www"
echo "outside page" >"$www/index.html"
ip netns exec "$outside" busybox httpd -f -p 8080 -h "$www" &
httpd_pid=$!
at_exit "kill $httpd_pid"
wait_until 10 curl -fsS --max-time 2 -o /dev/null http://198.51.100.2:8080/

source_config=$(jq -cn --arg id "oci:$layout:v1" '{ImageRepository: {ImageIdentifier: $id,
        ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: {Port: "8080"}}}')
at_exit "delete_service_quietly $name"
apprunnerctl create-service --service-name "$name" --source-configuration "$source_config" >/dev/null
assert_ok apprunnerctl wait service-running --service-arn "$name" --timeout 120
instance=$(apprunnerctl list-instances --service-arn "$name" | jq -r '.Instances[0].InstanceId')
netns=apprunner-$instance
[[ -e /run/netns/$netns ]] || fail "no network namespace /run/netns/$netns for instance $instance"

# outside_from_instance: requests the outside page from the instance's
# network namespace and prints it.
outside_from_instance() {
        ip netns exec "$netns" curl -fsS --max-time 3 http://198.51.100.2:8080/
}

log "with Outbound=yes the instance reaches the outside network"
assert_eq "outside page" "$(outside_from_instance)" "page fetched from the instance's namespace"

log "with Outbound=no it does not"
mkdir -p "${conf%/*}"
at_exit "rm -f '$conf'; systemctl restart apprunnerd.service"
printf '[Network]\nOutbound=no\n' >"$conf"
restart_apprunnerd
# apprunnerd adopts the running instance, so its namespace stays.
assert_eq "$instance" "$(apprunnerctl list-instances --service-arn "$name" | jq -r '.Instances[0].InstanceId')" \
        "instance after the restart"
assert_fail outside_from_instance
assert_not_contains "$ASSERT_OUTPUT" "outside page" "output of a request with Outbound=no"

log "back to Outbound=yes"
rm -f "$conf"
restart_apprunnerd
assert_eq "outside page" "$(outside_from_instance)" "page fetched after Outbound=yes again"

delete_service "$name"
wait_until 60 service_gone "$name"
assert_no_leftovers "left behind after delete-service"
