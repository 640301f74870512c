#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Access control of apprunnerd's D-Bus API. Any local user may read, but
# only root and members of group apprunner may call mutating methods. Two
# layers enforce this: the bus policy (dbus/org.apprunner1.conf), and
# apprunnerd's own check of the caller's credentials. The test checks the
# policy first, then installs a policy file that allows every call and
# checks that apprunnerd still rejects the unprivileged caller.

. "$(dirname "$0")/lib.sh"

READER=it-access-reader
MEMBER=it-access-member
PRIMARY=it-access-primary
ALLOW_ALL_POLICY=/etc/dbus-1/system.d/zz-it-access-allow-all.conf
DAEMON_DENIAL="requires root or membership in group apprunner"

# as_user USER COMMAND [ARG...]: runs COMMAND as USER with USER's groups.
as_user() {
        local user=$1
        shift
        runuser -u "$user" -- "$@"
}

# user_gdbus USER METHOD [ARG...]: calls a Manager method as USER with
# gdbus, which prints the D-Bus error name and takes GVariant text.
user_gdbus() {
        local user=$1 method=$2
        shift 2
        as_user "$user" gdbus call --system --dest "$APPRUNNER_BUS_NAME" --object-path "$APPRUNNER_MANAGER_PATH" \
                --method "$APPRUNNER_MANAGER_INTERFACE.$method" "$@"
}

reload_bus_policy() {
        busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
}

remove_users() {
        local user
        for user in "$READER" "$MEMBER" "$PRIMARY"; do
                userdel "$user" 2>/dev/null || true
        done
}

cleanup_resources() {
        manager_call DeleteAutoScalingConfiguration sb "$arn_prefix/access-root" true >/dev/null 2>&1 || true
        manager_call DeleteAutoScalingConfiguration sb "$arn_prefix/access-member" true >/dev/null 2>&1 || true
        manager_call DeleteAutoScalingConfiguration sb "$arn_prefix/access-primary" true >/dev/null 2>&1 || true
}

region=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" Region | jq -r .data)
account=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" AccountId | jq -r .data)
arn_prefix="arn:aws:apprunner:$region:$account:autoscalingconfiguration"

getent group apprunner >/dev/null || fail "group apprunner does not exist; systemd-sysusers should create it"
at_exit remove_users
at_exit cleanup_resources
remove_users
useradd --no-create-home --shell /usr/sbin/nologin "$READER"
useradd --no-create-home --shell /usr/sbin/nologin --groups apprunner "$MEMBER"
useradd --no-create-home --shell /usr/sbin/nologin --gid apprunner "$PRIMARY"
assert_not_contains " $(id -nG "$READER") " " apprunner " "groups of $READER"

# Resources for the unprivileged caller to try to change.
asc_path=$(manager_call CreateAutoScalingConfiguration 'sa{sv}' access-root 0 | jq -r '.data[0]')
asc_arn=$(bus_property "$asc_path" org.apprunner1.AutoScalingConfiguration AutoScalingConfigurationArn | jq -r .data)
connection_path=$(manager_call CreateConnection 'ssa{sv}' access-root REGISTRY 2 Username s u Password s p |
        jq -r '.data[0]')
connection_arn=$(bus_property "$connection_path" org.apprunner1.Connection ConnectionArn | jq -r .data)
at_exit "manager_call DeleteConnection s '$connection_arn' >/dev/null 2>&1"

# Every mutating method of org.apprunner1.Manager and its GVariant
# arguments, separated by '|'. No service web-api exists, which does not
# matter because apprunnerd checks access before it looks a service up.
mutating_calls=(
        "CreateService|web-api|{'ImageIdentifier': <'oci:/var/tmp/no-such-layout:latest'>}"
        "UpdateService|web-api|@a{sv} {}"
        "DeleteService|web-api"
        "PauseService|web-api"
        "ResumeService|web-api"
        "StartDeployment|web-api"
        "CreateAutoScalingConfiguration|access-reader|@a{sv} {}"
        "DeleteAutoScalingConfiguration|'$asc_arn'|true"
        "UpdateDefaultAutoScalingConfiguration|'$asc_arn'"
        "CreateConnection|access-reader|REGISTRY|{'Username': <'u'>, 'Password': <'p'>}"
        "DeleteConnection|'$connection_arn'"
)

log "an unprivileged user can read"
version=$(as_user "$READER" busctl get-property "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
        "$APPRUNNER_MANAGER_INTERFACE" Version)
[[ $version == 's "'*'"' ]] || fail "Version read by $READER: unexpected reply '$version'"
introspection=$(as_user "$READER" busctl introspect --no-pager "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH")
assert_contains "$introspection" ".CreateAutoScalingConfiguration" "introspection by $READER"
list=$(as_user "$READER" busctl --json=short call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
        "$APPRUNNER_MANAGER_INTERFACE" ListAutoScalingConfigurations sbus access-root false 0 "")
assert_eq "$asc_arn" "$(jq -r '.data[0][0][0]' <<<"$list")" "ListAutoScalingConfigurations by $READER"
assert_eq 1 "$(as_user "$READER" busctl --json=short get-property "$APPRUNNER_BUS_NAME" "$asc_path" \
        org.apprunner1.AutoScalingConfiguration AutoScalingConfigurationRevision | jq -r .data)" \
        "revision read by $READER"
assert_eq u "$(as_user "$READER" busctl --json=short get-property "$APPRUNNER_BUS_NAME" "$connection_path" \
        org.apprunner1.Connection Username | jq -r .data)" "connection user name read by $READER"
list=$(as_user "$READER" apprunnerctl list-auto-scaling-configurations --auto-scaling-configuration-name access-root)
assert_eq "$asc_arn" "$(jq -r '.AutoScalingConfigurationSummaryList[0].AutoScalingConfigurationArn' <<<"$list")" \
        "apprunnerctl list-auto-scaling-configurations by $READER"
assert_ok as_user "$READER" busctl call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
        "$APPRUNNER_MANAGER_INTERFACE" GetAutoScalingConfiguration s "$asc_arn"
assert_ok as_user "$READER" busctl call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
        "$APPRUNNER_MANAGER_INTERFACE" ListConnections sus "" 0 ""
assert_ok as_user "$READER" busctl call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
        "$APPRUNNER_MANAGER_INTERFACE" ListServices us 0 ""

log "the bus policy rejects every mutating method of an unprivileged user"
for call in "${mutating_calls[@]}"; do
        IFS="|" read -r -a words <<<"$call"
        assert_fail user_gdbus "$READER" "${words[@]}"
        assert_contains "$ASSERT_OUTPUT" "GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: " "error of ${words[0]}"
        # dbus-daemon's message names the member, and apprunnerd's does not.
        assert_contains "$ASSERT_OUTPUT" "member=\"${words[0]}\"" "bus policy message of ${words[0]}"
done
assert_fail as_user "$READER" gdbus call --system --dest "$APPRUNNER_BUS_NAME" --object-path "$asc_path" \
        --method org.freedesktop.DBus.Properties.Set org.apprunner1.AutoScalingConfiguration MaxSize "<uint32 3>"
assert_contains "$ASSERT_OUTPUT" "GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: " "error of Properties.Set"

log "apprunnerctl tells an unprivileged user to use root or group apprunner"
status=0
output=$(as_user "$READER" apprunnerctl create-auto-scaling-configuration \
        --auto-scaling-configuration-name access-reader 2>&1) || status=$?
assert_eq 255 "$status" "exit status of apprunnerctl for $READER"
assert_contains "$output" "apprunner" "apprunnerctl message for $READER"
assert_contains "$output" "root" "apprunnerctl message for $READER"

log "the rejected calls changed nothing"
assert_eq ACTIVE "$(bus_property "$asc_path" org.apprunner1.AutoScalingConfiguration Status | jq -r .data)"
assert_eq false "$(bus_property "$asc_path" org.apprunner1.AutoScalingConfiguration IsDefault | jq -r .data)"
assert_eq 0 "$(manager_call ListAutoScalingConfigurations sbus access-reader false 0 "" | jq '.data[0] | length')"
assert_eq 0 "$(manager_call ListConnections sus access-reader 0 "" | jq '.data[0] | length')"
assert_eq AVAILABLE "$(bus_property "$connection_path" org.apprunner1.Connection Status | jq -r .data)"

log "a supplementary member of group apprunner can create and delete"
output=$(as_user "$MEMBER" busctl --json=short call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
        "$APPRUNNER_MANAGER_INTERFACE" CreateAutoScalingConfiguration 'sa{sv}' access-member 1 MaxSize u 4)
member_path=$(jq -r '.data[0]' <<<"$output")
assert_eq 4 "$(bus_property "$member_path" org.apprunner1.AutoScalingConfiguration MaxSize | jq -r .data)"
output=$(as_user "$MEMBER" apprunnerctl delete-auto-scaling-configuration \
        --auto-scaling-configuration-arn "$arn_prefix/access-member")
assert_eq INACTIVE "$(jq -r .AutoScalingConfiguration.Status <<<"$output")" "Status after the member's delete"

log "a user whose primary group is apprunner can create"
as_user "$PRIMARY" apprunnerctl create-auto-scaling-configuration \
        --auto-scaling-configuration-name access-primary >/dev/null
assert_eq 1 "$(manager_call ListAutoScalingConfigurations sbus access-primary true 0 "" | jq '.data[0] | length')"

log "apprunnerd rejects an unprivileged user even when the bus policy allows every call"
[[ -d /etc/dbus-1/system.d ]] || mkdir -p /etc/dbus-1/system.d
at_exit reload_bus_policy
at_exit "rm -f '$ALLOW_ALL_POLICY'"
cat >"$ALLOW_ALL_POLICY" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
        "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Installed by test-control-access.sh for the duration of the test. -->
<busconfig>
  <policy context="default">
    <allow send_destination="org.apprunner1"/>
  </policy>
</busconfig>
EOF
reload_bus_policy
for call in "${mutating_calls[@]}"; do
        IFS="|" read -r -a words <<<"$call"
        assert_fail user_gdbus "$READER" "${words[@]}"
        assert_contains "$ASSERT_OUTPUT" "GDBus.Error:org.freedesktop.DBus.Error.AccessDenied: " "error of ${words[0]}"
        assert_contains "$ASSERT_OUTPUT" "$DAEMON_DENIAL" "apprunnerd's message for ${words[0]}"
done
assert_eq ACTIVE "$(bus_property "$asc_path" org.apprunner1.AutoScalingConfiguration Status | jq -r .data)"
assert_eq 0 "$(manager_call ListAutoScalingConfigurations sbus access-reader false 0 "" | jq '.data[0] | length')"
assert_eq 0 "$(manager_call ListConnections sus access-reader 0 "" | jq '.data[0] | length')"

log "after the policy file is removed the bus rejects the calls again"
rm -f "$ALLOW_ALL_POLICY"
reload_bus_policy
assert_fail user_gdbus "$READER" CreateAutoScalingConfiguration access-reader "@a{sv} {}"
assert_contains "$ASSERT_OUTPUT" 'member="CreateAutoScalingConfiguration"' "bus policy message after the restore"
