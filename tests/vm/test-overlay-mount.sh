#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# An image service starts on the VM's kernel (Debian 12's, see mkimage.sh)
# with apprunnerd as installed: its instance's overlayfs root mounts and the
# ingress returns the instance's page. The systemd-nspawn container of tests/integration/ runs
# on the host's kernel, so only this test covers the kernel that apprunnerd
# targets.

. "$IT_SRC/tests/integration/lib.sh"
. "$IT_SRC/tests/integration/fixtures/service-lib.sh"

name=vmoverlay
text="vm limits"
layout=$IT_SCRATCH/overlay-layout
# Seconds to wait for a service or an instance. Under TCG on 2 host CPUs a
# service reached RUNNING within 30 s, so this leaves room for slower hosts.
wait_timeout=300

mkdir -p "$IT_SCRATCH"
rm -rf "$layout"
cp -a "$VM_SHARED/layout" "$layout"
at_exit "rm -rf '$layout'"

start_apprunnerd
log "vm: kernel $(uname -r)"

source_config=$(jq -cn --arg id "oci:$layout:limits" '{ImageRepository: {ImageIdentifier: $id,
        ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: {Port: "8080"}}}')
at_exit "delete_service_quietly $name"
url=$(apprunnerctl create-service --service-name "$name" --source-configuration "$source_config" |
        jq -r .Service.ServiceUrl)
status=0
apprunnerctl wait service-running --service-arn "$name" --timeout "$wait_timeout" || status=$?
if [[ $status -ne 0 ]]; then
        log "vm: kernel log: $(journalctl -k -b --no-pager -o cat | grep -m1 overlayfs || true)"
        fail "service $name did not reach RUNNING on kernel $(uname -r)"
fi
wait_until 60 ingress_returns "$url" "$text"
log "vm: service $name is RUNNING on kernel $(uname -r)"

delete_service "$name"
wait_until 120 service_gone "$name"
assert_no_leftovers "left behind after delete-service"
