#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs services from a docker-registry on 127.0.0.1:5000 that requires
# htpasswd authentication. Credentials come from a connection. A wrong
# password and a missing tag each end CREATE_FAILED with a message that names
# the image reference, and leave nothing behind.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fixtures/service-lib.sh"

registry=127.0.0.1:5000
work=$(mktemp -d "$IT_SCRATCH/registry.XXXXXX")
at_exit "rm -rf '$work'"

log "start docker-registry with htpasswd authentication on $registry"
htpasswd -Bbn tester 's3cret pass' >"$work/htpasswd"
cat >"$work/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $registry
auth:
  htpasswd:
    realm: apprunner-it
    path: $work/htpasswd
CONFIG
at_exit "systemctl stop it-registry.service"
systemd-run --unit=it-registry --quiet docker-registry serve "$work/config.yml"
wait_until 20 curl -s -o /dev/null "http://$registry/v2/"

log "push the busybox image to $registry/hello:v1"
build_image "$work/layout" v1 "hello v1"
skopeo copy --quiet --dest-tls-verify=false --dest-creds 'tester:s3cret pass' \
        "oci:$work/layout:v1" "docker://$registry/hello:v1"

log "allow plain HTTP to $registry"
mkdir -p /etc/apprunner/apprunnerd.conf.d
at_exit "rm -f /etc/apprunner/apprunnerd.conf.d/50-it-registry.conf; systemctl restart apprunnerd.service"
printf '[Images]\nInsecureRegistries=%s\n' "$registry" >/etc/apprunner/apprunnerd.conf.d/50-it-registry.conf
restart_apprunnerd

# create_from_registry NAME REFERENCE CONNECTION_ARN
# Prints the OperationId of a new service running REFERENCE.
create_from_registry() {
        local source_config
        source_config=$(jq -cn --arg id "$2" --arg arn "$3" '{ImageRepository: {ImageIdentifier: $id,
                ImageRepositoryType: "REGISTRY", ImageConfiguration: {Port: "8080"}},
                AuthenticationConfiguration: {ConnectionArn: $arn}}')
        apprunnerctl create-service --service-name "$1" --source-configuration "$source_config" | jq -r .OperationId
}

# create_connection NAME PASSWORD
# Prints the ARN of a new registry connection for user "tester".
create_connection() {
        printf '%s' "$2" | apprunnerctl create-connection --connection-name "$1" --provider-type REGISTRY \
                --username tester --password-stdin | jq -r .Connection.ConnectionArn
}

good=$(create_connection it-good 's3cret pass')
bad=$(create_connection it-wrong 'wrong pass')
at_exit "apprunnerctl delete-connection --connection-arn '$good' >/dev/null"
at_exit "apprunnerctl delete-connection --connection-arn '$bad' >/dev/null"

log "a service with the right credentials runs"
at_exit "delete_service_quietly reg-good"
op=$(create_from_registry reg-good "$registry/hello:v1" "$good")
assert_ok apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
assert_eq RUNNING "$(service_status reg-good)" "status with the right password"
url=$(apprunnerctl describe-service --service-arn reg-good | jq -r .Service.ServiceUrl)
wait_until 20 ingress_returns "$url" "hello v1"

log "a wrong password fails the creation and names the reference"
at_exit "delete_service_quietly reg-wrong"
op=$(create_from_registry reg-wrong "$registry/hello:v1" "$bad")
assert_fail apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
assert_eq FAILED "$(operation_field "$op" Status)" "operation status with a wrong password"
assert_eq CREATE_FAILED "$(service_status reg-wrong)" "service status with a wrong password"
message=$(operation_field "$op" StatusMessage)
assert_contains "$message" "$registry/hello:v1" "StatusMessage names the reference"
assert_contains "${message,,}" "unauthorized" "StatusMessage gives the cause"

log "a missing tag fails the creation and names it"
at_exit "delete_service_quietly reg-missing"
op=$(create_from_registry reg-missing "$registry/hello:v9" "$good")
assert_fail apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
assert_eq CREATE_FAILED "$(service_status reg-missing)" "service status with a missing tag"
assert_contains "$(operation_field "$op" StatusMessage)" "$registry/hello:v9" "StatusMessage names the tag"

log "a Docker-format image is unchanged until a new one is pushed under its tag"
# skopeo stores Docker schema 2 images with OCI media types, so the digest in
# the image store differs from the registry's. CheckForImageUpdate must
# compare the registry's digest, or it would deploy the same image again.
build_image "$work/layout" v2 "hello v2"
skopeo copy --quiet --format v2s2 --dest-tls-verify=false --dest-creds 'tester:s3cret pass' \
        "oci:$work/layout:v1" "docker://$registry/docker-hello:live"
at_exit "delete_service_quietly reg-docker"
source_config=$(jq -cn --arg id "$registry/docker-hello:live" --arg arn "$good" '{ImageRepository: {
        ImageIdentifier: $id, ImageRepositoryType: "REGISTRY", ImageConfiguration: {Port: "8080"}},
        AuthenticationConfiguration: {ConnectionArn: $arn}, AutoDeploymentsEnabled: true}')
op=$(apprunnerctl create-service --service-name reg-docker --source-configuration "$source_config" | jq -r .OperationId)
assert_ok apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
docker_url=$(apprunnerctl describe-service --service-arn reg-docker | jq -r .Service.ServiceUrl)
wait_until 20 ingress_returns "$docker_url" "hello v1"
docker_path=$(manager_call GetService s reg-docker | jq -r '.data[0]')
check_image() {
        busctl --json=short call "$APPRUNNER_BUS_NAME" "$docker_path" org.apprunner1.Service CheckForImageUpdate |
                jq -r '.data[0]'
}
assert_eq "" "$(check_image)" "operation started by CheckForImageUpdate for an unchanged Docker image"

skopeo copy --quiet --format v2s2 --dest-tls-verify=false --dest-creds 'tester:s3cret pass' \
        "oci:$work/layout:v2" "docker://$registry/docker-hello:live"
op=$(check_image)
[[ -n $op ]] || fail "CheckForImageUpdate started no deployment after a new image was pushed"
assert_ok apprunnerctl wait operation-complete --operation-id "$op" --timeout 120
assert_eq START_DEPLOYMENT "$(operation_field "$op" Type)" "type of the operation"
wait_until 20 ingress_returns "$docker_url" "hello v2"
checked=$(apprunnerctl check-for-image-update --service-arn reg-docker)
assert_eq false "$(jq -r .ImageChanged <<<"$checked")" "ImageChanged from apprunnerctl right after the deployment"
assert_eq null "$(jq -r .OperationId <<<"$checked")" "OperationId from apprunnerctl for an unchanged image"
delete_service reg-docker
wait_until 60 service_gone reg-docker

log "the failed services leave no units, namespaces or mounts"
good_instance=$(apprunnerctl list-instances --service-arn reg-good | jq -r '.Instances[0].InstanceId')
found=$(leftovers | grep -v -e 'reg\\x2dgood' -e "$good_instance" || true)
assert_eq "" "$found" "resources of failed services"

log "deleting every service leaves nothing behind"
for name in reg-good reg-wrong reg-missing; do
        delete_service "$name"
done
for name in reg-good reg-wrong reg-missing; do
        wait_until 60 service_gone "$name"
done
assert_no_leftovers "left behind after delete-service"
