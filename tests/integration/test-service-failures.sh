#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Services that cannot start end CREATE_FAILED with a reason and leave
# nothing behind: an image whose command exits at once, and a tag that is
# not in the image layout.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

layout=$IT_SCRATCH/fail-img-$$
at_exit "rm -rf '$layout'"
build_image "$layout" v1 "hello v1"
start_apprunnerd

# create_failing NAME IDENTIFIER START_COMMAND
# Creates a service and prints its operation id once the operation ended.
create_failing() {
        local source_config op
        source_config=$(jq -cn --arg id "$2" --arg cmd "$3" '{ImageRepository: {ImageIdentifier: $id,
                ImageRepositoryType: "OCI_LAYOUT", ImageConfiguration: ({Port: "8080"} +
                (if $cmd == "" then {} else {StartCommand: $cmd} end))}}')
        op=$(apprunnerctl create-service --service-name "$1" --source-configuration "$source_config" |
                jq -r .OperationId)
        apprunnerctl wait operation-complete --operation-id "$op" --timeout 120 >/dev/null 2>&1 || true
        echo "$op"
}

log "an image whose command exits at once"
at_exit "delete_service_quietly exits-at-once"
op=$(create_failing exits-at-once "oci:$layout:v1" "echo exiting now; exit 3")
assert_eq FAILED "$(operation_field "$op" Status)" "operation status"
assert_eq CREATE_FAILED "$(service_status exits-at-once)" "service status"
message=$(operation_field "$op" StatusMessage)
assert_contains "$message" "exited before it passed its health check" "StatusMessage gives the reason"
unit=$(grep -o "apprunner-exits\\\\x2dat\\\\x2donce@[0-9a-f]*\\.service" <<<"$message")
assert_contains "$(journalctl --no-pager -o cat -u "$unit")" "exiting now" "the app's output in the journal"
assert_no_leftovers "left behind by a service whose command exits"

log "a tag that is not in the layout"
at_exit "delete_service_quietly missing-tag"
op=$(create_failing missing-tag "oci:$layout:nope" "")
assert_eq CREATE_FAILED "$(service_status missing-tag)" "service status"
assert_contains "$(operation_field "$op" StatusMessage)" "oci:$layout:nope" "StatusMessage names the image"
assert_no_leftovers "left behind by a service with a missing tag"

# Deleting a CREATE_FAILED service has nothing to stop, so the Service
# object can be gone before apprunnerctl reads it after the call.
for name in exits-at-once missing-tag; do
        deleted=$(apprunnerctl delete-service --service-arn "$name") || fail "delete-service $name failed"
        assert_eq "$name" "$(jq -r .Service.ServiceName <<<"$deleted")" "ServiceName in the delete-service output"
        [[ $(jq -r .OperationId <<<"$deleted") =~ ^[0-9a-f-]{36}$ ]] ||
                fail "no OperationId in the delete-service output: $deleted"
        wait_until 60 service_gone "$name"
done
assert_no_leftovers "left behind after delete-service"
