#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Invalid requests to apprunnerd's Manager: each one fails with
# org.apprunner1.Error.InvalidRequest (or ResourceNotFound for an unknown
# service) and a message that names the rejected value, and a rejected
# request leaves no resource and no state file behind.
#
# busctl does not print the name of a D-Bus error, so the methods are
# called with gdbus, which prints "GDBus.Error:NAME: MESSAGE" and takes its
# arguments as GVariant text.

. "$(dirname "$0")/lib.sh"

INVALID=org.apprunner1.Error.InvalidRequest

manager_gdbus() {
        local method=$1
        shift
        gdbus call --system --dest "$APPRUNNER_BUS_NAME" --object-path "$APPRUNNER_MANAGER_PATH" \
                --method "$APPRUNNER_MANAGER_INTERFACE.$method" "$@"
}

# assert_bus_error ERROR_NAME MESSAGE_PART METHOD [ARG...]
# Calls a Manager method that must fail with ERROR_NAME and a message
# containing MESSAGE_PART.
assert_bus_error() {
        local name=$1 part=$2
        shift 2
        assert_fail manager_gdbus "$@"
        assert_contains "$ASSERT_OUTPUT" "GDBus.Error:$name: " "error name of $1"
        assert_contains "$ASSERT_OUTPUT" "$part" "error message of $1"
}

# Prints every file below the state directory except the image store, and
# what each List method returns, so that two snapshots compare equal when
# no request changed anything.
snapshot_state() {
        find /var/lib/apprunner -path /var/lib/apprunner/images -prune -o -type f -print | sort
        manager_call ListServices us 0 ""
        manager_call ListAutoScalingConfigurations sbus "" false 0 ""
        manager_call ListConnections sus "" 0 ""
}

# A valid image reference: the requests below fail before it is resolved.
IMAGE="'oci:/var/tmp/apprunner-it/no-such-layout:latest'"

before=$(snapshot_state)

log "auto scaling configuration names"
assert_bus_error "$INVALID" "AutoScalingConfigurationName 'web' is invalid" \
        CreateAutoScalingConfiguration web "@a{sv} {}"
assert_bus_error "$INVALID" "AutoScalingConfigurationName 'bad name!' is invalid" \
        CreateAutoScalingConfiguration "'bad name!'" "@a{sv} {}"
assert_bus_error "$INVALID" "AutoScalingConfigurationName '-web-api' is invalid" \
        CreateAutoScalingConfiguration "'-web-api'" "@a{sv} {}"
long_name=$(printf 'a%.0s' $(seq 33))
assert_bus_error "$INVALID" "AutoScalingConfigurationName '$long_name' is invalid" \
        CreateAutoScalingConfiguration "'$long_name'" "@a{sv} {}"
assert_bus_error "$INVALID" "AutoScalingConfigurationName 'wéb-api' is invalid" \
        CreateAutoScalingConfiguration "'wéb-api'" "@a{sv} {}"
assert_bus_error "$INVALID" "AutoScalingConfigurationName '' is invalid" \
        CreateAutoScalingConfiguration "''" "@a{sv} {}"

log "auto scaling configuration values"
assert_bus_error "$INVALID" "MaxConcurrency 0 is out of range" \
        CreateAutoScalingConfiguration web-api "{'MaxConcurrency': <uint32 0>}"
assert_bus_error "$INVALID" "MaxConcurrency 201 is out of range" \
        CreateAutoScalingConfiguration web-api "{'MaxConcurrency': <uint32 201>}"
assert_bus_error "$INVALID" "MinSize 0 is out of range" \
        CreateAutoScalingConfiguration web-api "{'MinSize': <uint32 0>}"
assert_bus_error "$INVALID" "MaxSize 26 is out of range" \
        CreateAutoScalingConfiguration web-api "{'MaxSize': <uint32 26>}"
assert_bus_error "$INVALID" "MinSize 5 is larger than MaxSize 3" \
        CreateAutoScalingConfiguration web-api "{'MinSize': <uint32 5>, 'MaxSize': <uint32 3>}"
assert_bus_error "$INVALID" "Option MaxConcurrency=-1 is out of range" \
        CreateAutoScalingConfiguration web-api "{'MaxConcurrency': <int32 -1>}"
assert_bus_error "$INVALID" "Option MaxSize=4294967296 is out of range" \
        CreateAutoScalingConfiguration web-api "{'MaxSize': <uint64 4294967296>}"
assert_bus_error "$INVALID" "Unknown option 'MaxInstances'" \
        CreateAutoScalingConfiguration web-api "{'MaxInstances': <uint32 5>}"
assert_bus_error "$INVALID" "Option MaxConcurrency has D-Bus type 's'" \
        CreateAutoScalingConfiguration web-api "{'MaxConcurrency': <'50'>}"

log "apprunnerctl shows the daemon's message and exits 254"
status=0
output=$(apprunnerctl create-auto-scaling-configuration --auto-scaling-configuration-name web-api \
        --max-concurrency 201 2>&1) || status=$?
assert_eq 254 "$status" "exit status of apprunnerctl for MaxConcurrency 201"
assert_contains "$output" "An error occurred (InvalidRequestException) when calling the CreateAutoScalingConfiguration operation: MaxConcurrency 201 is out of range"

log "service names"
assert_bus_error "$INVALID" "ServiceName 'web' is invalid" \
        CreateService web "{'ImageIdentifier': <$IMAGE>}"
assert_bus_error "$INVALID" "ServiceName 'web api' is invalid" \
        CreateService "'web api'" "{'ImageIdentifier': <$IMAGE>}"
long_name=$(printf 'a%.0s' $(seq 41))
assert_bus_error "$INVALID" "ServiceName '$long_name' is invalid" \
        CreateService "'$long_name'" "{'ImageIdentifier': <$IMAGE>}"

log "service instance configuration"
assert_bus_error "$INVALID" "Cpu '3 vCPU' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Cpu': <'3 vCPU'>}"
assert_bus_error "$INVALID" "Memory '7 GB' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Memory': <'7 GB'>}"
assert_bus_error "$INVALID" "Memory 8 GB (8192 MB) cannot be combined with Cpu 1 vCPU (1024)" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Cpu': <'1 vCPU'>, 'Memory': <'8 GB'>}"
assert_bus_error "$INVALID" "Option Cpu has D-Bus type 'u'" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Cpu': <uint32 1024>}"

log "service port and image"
assert_bus_error "$INVALID" "Port '0' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Port': <'0'>}"
assert_bus_error "$INVALID" "Port '65536' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Port': <'65536'>}"
assert_bus_error "$INVALID" "Port 'http' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Port': <'http'>}"
assert_bus_error "$INVALID" "Option Port has D-Bus type 'u'" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Port': <uint32 8080>}"
assert_bus_error "$INVALID" "ImageIdentifier 'Not An Image!' is invalid" \
        CreateService web-api "{'ImageIdentifier': <'Not An Image!'>}"
assert_bus_error "$INVALID" "ImageIdentifier 'oci:/var/tmp/../etc:latest' is invalid" \
        CreateService web-api "{'ImageIdentifier': <'oci:/var/tmp/../etc:latest'>}"
assert_bus_error "$INVALID" "ImageRepositoryType ECR does not match ImageIdentifier" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'ImageRepositoryType': <'ECR'>}"
assert_bus_error "$INVALID" "ImageIdentifier is missing" \
        CreateService web-api "{'Port': <'8080'>}"

log "other service options"
assert_bus_error "$INVALID" "Unknown option 'Foo'" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Foo': <'bar'>}"
assert_bus_error "$INVALID" "Protocol 'UDP' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Protocol': <'UDP'>}"
assert_bus_error "$INVALID" "Interval 0 is out of range" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Interval': <uint32 0>}"
assert_bus_error "$INVALID" "Path 'health' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'Path': <'health'>}"
assert_bus_error "$INVALID" "RuntimeEnvironmentVariables name 'AWSAPPRUNNER_X' is invalid" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'RuntimeEnvironmentVariables': <{'AWSAPPRUNNER_X': '1'}>}"
assert_bus_error "$INVALID" "RuntimeEnvironmentSecrets is not supported" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'RuntimeEnvironmentSecrets': <{'A': 'b'}>}"
assert_bus_error "$INVALID" "AutoScalingConfigurationArn arn:aws:apprunner:local-1:000000000000:autoscalingconfiguration/nope" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'AutoScalingConfigurationArn': <'arn:aws:apprunner:local-1:000000000000:autoscalingconfiguration/nope'>}"
assert_bus_error "$INVALID" "ConnectionArn arn:aws:apprunner:local-1:000000000000:connection/nope/0 does not name a connection" \
        CreateService web-api "{'ImageIdentifier': <$IMAGE>, 'ConnectionArn': <'arn:aws:apprunner:local-1:000000000000:connection/nope/0'>}"

log "connections"
assert_bus_error "$INVALID" "ConnectionName 'hub' is invalid" \
        CreateConnection hub REGISTRY "{'Username': <'u'>, 'Password': <'p'>}"
assert_bus_error "$INVALID" "ProviderType 'GITHUB' is not supported" \
        CreateConnection registry-hub GITHUB "{'Username': <'u'>, 'Password': <'p'>}"
assert_bus_error "$INVALID" "needs a non-empty Username and Password" \
        CreateConnection registry-hub REGISTRY "{'Username': <'u'>}"
assert_bus_error "$INVALID" "Unknown option 'Token'" \
        CreateConnection registry-hub REGISTRY "{'Username': <'u'>, 'Token': <'p'>}"
assert_bus_error "$INVALID" "Option Password has D-Bus type 'i'" \
        CreateConnection registry-hub REGISTRY "{'Username': <'u'>, 'Password': <int32 1>}"

log "paging arguments"
assert_bus_error "$INVALID" "MaxResults 101 is out of range" \
        ListAutoScalingConfigurations "''" false 101 "''"
assert_bus_error "$INVALID" "MaxResults 21 is out of range" ListServices 21 "''"
assert_bus_error "$INVALID" "NextToken 'abc' is invalid" ListConnections "''" 0 abc

log "unknown resources"
assert_bus_error org.apprunner1.Error.ResourceNotFound "Service no-such-service not found" \
        GetService no-such-service
assert_bus_error org.apprunner1.Error.ResourceNotFound "Service no-such-service not found" \
        DeleteService no-such-service
assert_bus_error org.apprunner1.Error.ResourceNotFound "Operation no-such-operation not found" \
        GetOperation no-such-operation
assert_bus_error org.apprunner1.Error.ResourceNotFound "not found" \
        DeleteConnection "'arn:aws:apprunner:local-1:000000000000:connection/nope/0'"
status=0
output=$(apprunnerctl describe-service --service-arn no-such-service 2>&1) || status=$?
assert_eq 254 "$status" "exit status of apprunnerctl describe-service for an unknown service"
assert_contains "$output" "An error occurred (ResourceNotFoundException) when calling the DescribeService operation: Service no-such-service not found."

log "the rejected requests left nothing behind"
after=$(snapshot_state)
assert_eq "$before" "$after" "state files and lists before and after the rejected requests"
