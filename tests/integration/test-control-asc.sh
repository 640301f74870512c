#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Auto scaling configurations through apprunnerd's D-Bus API and
# apprunnerctl: the built-in DefaultConfiguration, revisions and Latest,
# listing and describing, the default, deleting one, the latest or every
# revision, and the quotas of 10 active revisions per name and 10 names.
#
# busctl does not print the name of a D-Bus error, so the error cases call
# the same methods with gdbus, which prints "GDBus.Error:NAME: MESSAGE".

. "$(dirname "$0")/lib.sh"

AUTO_SCALING_INTERFACE=org.apprunner1.AutoScalingConfiguration

# create_revision NAME [COUNT KEY TYPE VALUE...]
# Creates a revision of NAME and prints its object path.
create_revision() {
        local name=$1
        shift
        [[ $# -gt 0 ]] || set -- 0
        manager_call CreateAutoScalingConfiguration 'sa{sv}' "$name" "$@" | jq -r '.data[0]'
}

# revision_property OBJECT_PATH PROPERTY
revision_property() {
        bus_property "$1" "$AUTO_SCALING_INTERFACE" "$2" | jq -r .data
}

# get_revision ARN: prints the object path of the revision the ARN names.
get_revision() {
        manager_call GetAutoScalingConfiguration s "$1" | jq -r '.data[0]'
}

# manager_gdbus METHOD [ARG...]: calls a Manager method with gdbus, whose
# arguments are GVariant text.
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

# Counts the active names other than DefaultConfiguration.
count_active_names() {
        manager_call ListAutoScalingConfigurations sbus "" true 0 "" |
                jq '[.data[0][] | select(.[3] == "ACTIVE" and .[1] != "DefaultConfiguration")] | length'
}

created_names=()
delete_created_names() {
        local name
        for name in "${created_names[@]}"; do
                manager_call DeleteAutoScalingConfiguration sb "$arn_prefix/$name" true >/dev/null 2>&1 || true
        done
}
at_exit delete_created_names

region=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" Region | jq -r .data)
account=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" AccountId | jq -r .data)
arn_prefix="arn:aws:apprunner:$region:$account:autoscalingconfiguration"

log "DefaultConfiguration exists and is the default"
default_path=$(get_revision "$arn_prefix/DefaultConfiguration")
default_arn=$(revision_property "$default_path" AutoScalingConfigurationArn)
assert_eq true "$(revision_property "$default_path" IsDefault)" "IsDefault of DefaultConfiguration"
assert_eq ACTIVE "$(revision_property "$default_path" Status)" "Status of DefaultConfiguration"
assert_eq true "$(revision_property "$default_path" Latest)" "Latest of DefaultConfiguration"
assert_eq DefaultConfiguration "$(revision_property "$default_path" AutoScalingConfigurationName)"
[[ $default_arn == "$arn_prefix/DefaultConfiguration/"[0-9]*/* ]] ||
        fail "ARN of DefaultConfiguration has an unexpected form: $default_arn"

log "DefaultConfiguration cannot be deleted"
assert_bus_error org.apprunner1.Error.InvalidRequest "DefaultConfiguration" \
        DeleteAutoScalingConfiguration "'$default_arn'" false
assert_bus_error org.apprunner1.Error.InvalidRequest "DefaultConfiguration" \
        DeleteAutoScalingConfiguration "'$arn_prefix/DefaultConfiguration'" true
assert_eq ACTIVE "$(revision_property "$default_path" Status)" "Status of DefaultConfiguration after the refused delete"

log "create web-api with MaxConcurrency 50 and MaxSize 5"
created_names+=(web-api)
r1=$(busctl call org.apprunner1 /org/apprunner1 org.apprunner1.Manager CreateAutoScalingConfiguration \
        'sa{sv}' web-api 2 MaxConcurrency u 50 MaxSize u 5)
r1=${r1#o \"}
r1=${r1%\"}
[[ $r1 == /org/apprunner1/auto_scaling_configuration/* ]] || fail "unexpected object path '$r1'"
r1_arn=$(revision_property "$r1" AutoScalingConfigurationArn)
[[ $r1_arn =~ ^$arn_prefix/web-api/1/[0-9a-f]{32}$ ]] || fail "ARN of web-api revision 1 has an unexpected form: $r1_arn"
assert_eq web-api "$(revision_property "$r1" AutoScalingConfigurationName)"
assert_eq 1 "$(revision_property "$r1" AutoScalingConfigurationRevision)"
assert_eq 50 "$(revision_property "$r1" MaxConcurrency)"
assert_eq 1 "$(revision_property "$r1" MinSize)" "MinSize defaults to 1"
assert_eq 5 "$(revision_property "$r1" MaxSize)"
assert_eq true "$(revision_property "$r1" Latest)"
assert_eq ACTIVE "$(revision_property "$r1" Status)"
assert_eq false "$(revision_property "$r1" IsDefault)"
assert_eq false "$(revision_property "$r1" HasAssociatedService)"
assert_eq 0 "$(revision_property "$r1" DeletedAt)"
created_at=$(revision_property "$r1" CreatedAt)
now_us=$(($(date +%s) * 1000000))
((created_at > now_us - 300000000 && created_at <= now_us + 1000000)) ||
        fail "CreatedAt $created_at is not within 5 minutes before now ($now_us µs)"
introspection=$(busctl introspect --no-pager org.apprunner1 "$r1" "$AUTO_SCALING_INTERFACE")
assert_eq "property u 50" "$(awk '$1 == ".MaxConcurrency" { print $2, $3, $4 }' <<<"$introspection")" \
        "MaxConcurrency in busctl introspect"
assert_eq "property s \"$r1_arn\"" "$(awk '$1 == ".AutoScalingConfigurationArn" { print $2, $3, $4 }' <<<"$introspection")" \
        "AutoScalingConfigurationArn in busctl introspect"

log "the same name again creates revision 2, which becomes Latest"
r2=$(create_revision web-api 1 MaxConcurrency u 60)
assert_eq 2 "$(revision_property "$r2" AutoScalingConfigurationRevision)"
assert_eq 60 "$(revision_property "$r2" MaxConcurrency)"
assert_eq 25 "$(revision_property "$r2" MaxSize)" "MaxSize defaults to 25"
assert_eq true "$(revision_property "$r2" Latest)" "Latest of revision 2"
assert_eq false "$(revision_property "$r1" Latest)" "Latest of revision 1 after revision 2"
r2_arn=$(revision_property "$r2" AutoScalingConfigurationArn)
assert_eq "$r2" "$(get_revision "$arn_prefix/web-api")" "an ARN ending in the name names the latest revision"
assert_eq "$r1" "$(get_revision "$r1_arn")" "the full ARN names its revision"
r3=$(create_revision web-api 2 MinSize u 2 MaxSize u 3)
r3_arn=$(revision_property "$r3" AutoScalingConfigurationArn)
assert_eq 3 "$(revision_property "$r3" AutoScalingConfigurationRevision)"

log "apprunnerctl lists with a name filter and --latest-only, which is the default"
created_names+=(other-asc)
create_revision other-asc >/dev/null
list=$(apprunnerctl list-auto-scaling-configurations --auto-scaling-configuration-name web-api --no-latest-only)
assert_eq "1 2 3" "$(jq -r '[.AutoScalingConfigurationSummaryList[].AutoScalingConfigurationRevision] | join(" ")' <<<"$list")" \
        "revisions listed for web-api"
list=$(apprunnerctl list-auto-scaling-configurations --auto-scaling-configuration-name web-api)
assert_eq "3" "$(jq -r '[.AutoScalingConfigurationSummaryList[].AutoScalingConfigurationRevision] | join(" ")' <<<"$list")" \
        "revisions listed for web-api without --latest-only"
assert_eq web-api "$(jq -r '[.AutoScalingConfigurationSummaryList[].AutoScalingConfigurationName] | unique | join(" ")' <<<"$list")" \
        "names listed with the web-api filter"
list=$(apprunnerctl list-auto-scaling-configurations --auto-scaling-configuration-name web-api --latest-only)
assert_eq 1 "$(jq '.AutoScalingConfigurationSummaryList | length' <<<"$list")" "entries with --latest-only"
assert_eq "$r3_arn" "$(jq -r '.AutoScalingConfigurationSummaryList[0].AutoScalingConfigurationArn' <<<"$list")"
assert_eq ACTIVE "$(jq -r '.AutoScalingConfigurationSummaryList[0].Status' <<<"$list")"
list=$(apprunnerctl list-auto-scaling-configurations --latest-only)
assert_eq "DefaultConfiguration other-asc web-api" \
        "$(jq -r '[.AutoScalingConfigurationSummaryList[].AutoScalingConfigurationName] | map(select(. == "DefaultConfiguration" or . == "other-asc" or . == "web-api")) | sort | join(" ")' <<<"$list")" \
        "names listed with --latest-only and no filter"
assert_eq 1 "$(jq '[.AutoScalingConfigurationSummaryList[] | select(.AutoScalingConfigurationName == "web-api")] | length' <<<"$list")" \
        "web-api entries with --latest-only and no filter"

log "apprunnerctl describes a revision by its ARN and by the name's ARN"
described=$(apprunnerctl describe-auto-scaling-configuration --auto-scaling-configuration-arn "$r1_arn")
assert_eq "$r1_arn" "$(jq -r .AutoScalingConfiguration.AutoScalingConfigurationArn <<<"$described")"
assert_eq 50 "$(jq -r .AutoScalingConfiguration.MaxConcurrency <<<"$described")"
assert_eq 1 "$(jq -r .AutoScalingConfiguration.MinSize <<<"$described")"
assert_eq 5 "$(jq -r .AutoScalingConfiguration.MaxSize <<<"$described")"
assert_eq false "$(jq -r .AutoScalingConfiguration.Latest <<<"$described")"
assert_eq ACTIVE "$(jq -r .AutoScalingConfiguration.Status <<<"$described")"
described=$(apprunnerctl describe-auto-scaling-configuration --auto-scaling-configuration-arn "$arn_prefix/web-api")
assert_eq "$r3_arn" "$(jq -r .AutoScalingConfiguration.AutoScalingConfigurationArn <<<"$described")"
assert_eq 2 "$(jq -r .AutoScalingConfiguration.MinSize <<<"$described")"
assert_eq true "$(jq -r .AutoScalingConfiguration.Latest <<<"$described")"

log "update-default moves IsDefault; the default revision cannot be deleted"
created_names+=(api-burst)
burst=$(create_revision api-burst 1 MaxConcurrency u 10)
burst_arn=$(revision_property "$burst" AutoScalingConfigurationArn)
output=$(apprunnerctl update-default-auto-scaling-configuration --auto-scaling-configuration-arn "$burst_arn")
assert_eq true "$(jq -r .AutoScalingConfiguration.IsDefault <<<"$output")" "IsDefault in the update-default output"
assert_eq true "$(revision_property "$burst" IsDefault)" "IsDefault of api-burst after update-default"
assert_eq false "$(revision_property "$default_path" IsDefault)" "IsDefault of DefaultConfiguration after update-default"
assert_bus_error org.apprunner1.Error.InvalidState "$burst_arn" DeleteAutoScalingConfiguration "'$burst_arn'" false
assert_bus_error org.apprunner1.Error.InvalidState "$burst_arn" \
        DeleteAutoScalingConfiguration "'$arn_prefix/api-burst'" true
assert_bus_error org.apprunner1.Error.InvalidRequest "DefaultConfiguration" \
        DeleteAutoScalingConfiguration "'$default_arn'" false
assert_eq ACTIVE "$(revision_property "$burst" Status)" "Status of the default after the refused delete"

log "after the default moves back, the previous default can be deleted"
apprunnerctl update-default-auto-scaling-configuration --auto-scaling-configuration-arn "$arn_prefix/DefaultConfiguration" >/dev/null
assert_eq true "$(revision_property "$default_path" IsDefault)"
assert_eq false "$(revision_property "$burst" IsDefault)"
apprunnerctl delete-auto-scaling-configuration --auto-scaling-configuration-arn "$burst_arn" >/dev/null
assert_eq INACTIVE "$(revision_property "$burst" Status)" "Status of the previous default after delete"

log "delete one revision that is not the latest"
output=$(apprunnerctl delete-auto-scaling-configuration --auto-scaling-configuration-arn "$r1_arn")
assert_eq "$r1_arn" "$(jq -r .AutoScalingConfiguration.AutoScalingConfigurationArn <<<"$output")"
assert_eq INACTIVE "$(jq -r .AutoScalingConfiguration.Status <<<"$output")" "Status in the delete output"
assert_eq INACTIVE "$(revision_property "$r1" Status)" "Status of revision 1 after delete"
deleted_at=$(revision_property "$r1" DeletedAt)
((deleted_at >= created_at)) || fail "DeletedAt $deleted_at of revision 1 is before its CreatedAt $created_at"
assert_eq false "$(revision_property "$r1" Latest)"
assert_eq true "$(revision_property "$r3" Latest)" "Latest of revision 3 after revision 1 was deleted"
assert_eq "$r1" "$(get_revision "$r1_arn")" "a deleted revision stays readable by its ARN"
assert_bus_error org.apprunner1.Error.ResourceNotFound "$r1_arn" DeleteAutoScalingConfiguration "'$r1_arn'" false
list=$(apprunnerctl list-auto-scaling-configurations --auto-scaling-configuration-name web-api --no-latest-only)
assert_eq "2 3" "$(jq -r '[.AutoScalingConfigurationSummaryList[].AutoScalingConfigurationRevision] | join(" ")' <<<"$list")" \
        "revisions listed after revision 1 was deleted"

log "delete the latest revision through the ARN ending in the name"
output=$(apprunnerctl delete-auto-scaling-configuration --auto-scaling-configuration-arn "$arn_prefix/web-api")
assert_eq "$r3_arn" "$(jq -r .AutoScalingConfiguration.AutoScalingConfigurationArn <<<"$output")" \
        "the name's ARN deletes the latest revision"
assert_eq INACTIVE "$(revision_property "$r3" Status)"
assert_eq false "$(revision_property "$r3" Latest)"
assert_eq true "$(revision_property "$r2" Latest)" "Latest moves back to revision 2"
assert_eq "$r2" "$(get_revision "$arn_prefix/web-api")"
r4=$(create_revision web-api)
assert_eq 4 "$(revision_property "$r4" AutoScalingConfigurationRevision)" "revision numbers are not reused"

log "delete all revisions"
apprunnerctl delete-auto-scaling-configuration --auto-scaling-configuration-arn "$r2_arn" --delete-all-revisions >/dev/null
for path in "$r1" "$r2" "$r3" "$r4"; do
        assert_eq INACTIVE "$(revision_property "$path" Status)" "Status of $path after deleting all revisions"
        assert_eq false "$(revision_property "$path" Latest)" "Latest of $path after deleting all revisions"
done
assert_bus_error org.apprunner1.Error.ResourceNotFound "$arn_prefix/web-api" \
        GetAutoScalingConfiguration "'$arn_prefix/web-api'"
list=$(apprunnerctl list-auto-scaling-configurations --auto-scaling-configuration-name web-api --latest-only)
assert_eq 0 "$(jq '.AutoScalingConfigurationSummaryList | length' <<<"$list")" "latest web-api revisions after deleting all"
assert_fail apprunnerctl describe-auto-scaling-configuration --auto-scaling-configuration-arn "$arn_prefix/web-api"
assert_contains "$ASSERT_OUTPUT" "An error occurred (ResourceNotFoundException)"
assert_not_contains "$ASSERT_OUTPUT" "Expected an ARN" "message for a missing configuration given by ARN"
# A bare name is not an ARN, and the message names the expected form.
assert_fail apprunnerctl describe-auto-scaling-configuration --auto-scaling-configuration-arn other-asc
assert_contains "$ASSERT_OUTPUT" "Auto scaling configuration other-asc not found. Expected an ARN: arn:aws:apprunner:"

log "the 11th active revision of a name exceeds the quota"
created_names+=(quota-revisions)
for i in $(seq 10); do
        create_revision quota-revisions >/dev/null
done
assert_bus_error org.apprunner1.Error.ServiceQuotaExceeded "quota-revisions" \
        CreateAutoScalingConfiguration quota-revisions "@a{sv} {}"
assert_eq 10 "$(manager_call ListAutoScalingConfigurations sbus quota-revisions false 0 "" | jq '.data[0] | length')" \
        "revisions of quota-revisions after the refused 11th"
# A deleted revision frees its place.
manager_call DeleteAutoScalingConfiguration sb "$arn_prefix/quota-revisions" false >/dev/null
path=$(create_revision quota-revisions)
assert_eq 11 "$(revision_property "$path" AutoScalingConfigurationRevision)" "revision after one was deleted"

log "the 11th name exceeds the quota, and DefaultConfiguration does not count"
quota=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" AutoScalingConfigurationQuota | jq -r .data)
assert_eq 10 "$quota" "AutoScalingConfigurationQuota"
active=$(count_active_names)
for ((i = active; i < quota; i++)); do
        name=quota-name-$i
        created_names+=("$name")
        create_revision "$name" >/dev/null
done
assert_eq "$quota" "$(count_active_names)" "active names other than DefaultConfiguration"
assert_bus_error org.apprunner1.Error.ServiceQuotaExceeded "10 auto scaling configuration names" \
        CreateAutoScalingConfiguration quota-name-extra "@a{sv} {}"
# A new revision of an existing name is still allowed at the name quota.
create_revision other-asc >/dev/null

log "apprunnerctl prints the quota error as the AWS CLI does and exits 254"
status=0
output=$(apprunnerctl create-auto-scaling-configuration --auto-scaling-configuration-name quota-name-extra 2>&1) || status=$?
assert_eq 254 "$status" "exit status of apprunnerctl at the quota"
assert_contains "$output" "An error occurred (ServiceQuotaExceededException) when calling the CreateAutoScalingConfiguration operation: "
assert_eq 0 "$(manager_call ListAutoScalingConfigurations sbus quota-name-extra false 0 "" | jq '.data[0] | length')" \
        "revisions of the refused name"

log "deleting every revision of a name frees a place in the quota"
manager_call DeleteAutoScalingConfiguration sb "$arn_prefix/quota-revisions" true >/dev/null
created_names+=(quota-name-extra)
path=$(create_revision quota-name-extra)
assert_eq ACTIVE "$(revision_property "$path" Status)"
