#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# apprunnerd's configuration drop-ins. `apprunnerd --check-config` and the
# unit's start reject an invalid value with a message that names file,
# line, key and value. A valid drop-in takes effect after a restart, a later
# drop-in overrides an earlier one, and removing them restores the defaults.

. "$(dirname "$0")/lib.sh"

APPRUNNERD=/usr/libexec/apprunnerd
DROPIN_DIR=/etc/apprunner/apprunnerd.conf.d
BAD=$DROPIN_DIR/50-bad.conf
GOOD=$DROPIN_DIR/50-quota.conf
LATER=$DROPIN_DIR/60-quota.conf

service_quota() {
        bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" ServiceQuota | jq -r .data
}

# restart_daemon: restarts apprunnerd.service after resetting systemd's
# start rate limit, which the restarts of this test would reach.
restart_daemon() {
        systemctl reset-failed apprunnerd.service
        systemctl restart apprunnerd.service
}

# assert_check_config_rejects CONTENT PART...
# Writes CONTENT to $BAD, runs `apprunnerd --check-config`, which must
# fail, and checks that its output contains every PART.
assert_check_config_rejects() {
        local content=$1 part
        shift
        printf '%s' "$content" >"$BAD"
        assert_fail "$APPRUNNERD" --check-config
        for part in "$@"; do
                assert_contains "$ASSERT_OUTPUT" "$part" "--check-config output for $(tr '\n' ' ' <<<"$content")"
        done
}

restore() {
        rm -f "$BAD" "$GOOD" "$LATER"
        restart_daemon
}
[[ -d $DROPIN_DIR ]] || {
        mkdir -p "$DROPIN_DIR"
        at_exit "rmdir '$DROPIN_DIR'"
}
at_exit restore

log "the shipped configuration is valid"
output=$("$APPRUNNERD" --check-config 2>&1)
assert_contains "$output" "Configuration in /etc/apprunner is valid."
assert_eq 10 "$(service_quota)" "ServiceQuota without drop-ins"

log "--check-config names file, line, key and value"
assert_check_config_rejects $'[Quotas]\nServices=abc\n' "$BAD:2:" "Services" "abc"
assert_check_config_rejects $'# Quotas of this host.\n\n[Quotas]\nConnections=5\nServices=0\n' \
        "$BAD:5:" "Services" "0"
assert_check_config_rejects $'[Quotas]\nServices=1001\n' "$BAD:2:" "Services" "1001"
assert_check_config_rejects $'[Quotas]\nServces=2\n' "$BAD:2:" "Servces"
assert_check_config_rejects $'[Quota]\nServices=2\n' "$BAD:1:" "Quota"
assert_check_config_rejects $'[AutoScaling]\nMaxConcurrency=201\n' "$BAD:2:" "MaxConcurrency" "201"

log "the unit does not start with the invalid drop-in, and the journal has the message"
printf '[Quotas]\nServices=abc\n' >"$BAD"
check_output=$("$APPRUNNERD" --check-config 2>&1 || true)
message=$(grep -m1 "$BAD:2:" <<<"$check_output")
[[ -n $message ]] || fail "no line naming $BAD:2: in:"$'\n'"$check_output"
since=$(date +%s)
sleep 1
systemctl reset-failed apprunnerd.service
assert_fail systemctl restart apprunnerd.service
state=$(systemctl is-active apprunnerd.service || true)
[[ $state != active ]] || fail "apprunnerd.service is active with the invalid drop-in"
journal=$(journalctl -u apprunnerd.service --since "@$since" --no-pager -o cat)
assert_contains "$journal" "$message" "journal of the failed start"

log "a valid drop-in sets ServiceQuota"
rm -f "$BAD"
printf '[Quotas]\nServices=2\n' >"$GOOD"
assert_ok "$APPRUNNERD" --check-config
restart_daemon
assert_eq active "$(systemctl is-active apprunnerd.service)"
assert_eq 2 "$(service_quota)" "ServiceQuota with Services=2"

log "a later drop-in overrides an earlier one"
printf '[Quotas]\nServices=3\n' >"$LATER"
restart_daemon
assert_eq 3 "$(service_quota)" "ServiceQuota with 60-quota.conf after 50-quota.conf"

log "without drop-ins the default applies again"
rm -f "$GOOD" "$LATER"
restart_daemon
assert_eq 10 "$(service_quota)" "ServiceQuota after removing the drop-ins"

log "--config-root reads another directory"
root=$(mktemp -d "$IT_SCRATCH/control-config.XXXXXX")
at_exit "rm -rf '$root'"
printf '[Account]\nRegion=eu-west-1\n[Quotas]\nConnections=many\n' >"$root/apprunnerd.conf"
assert_fail "$APPRUNNERD" --check-config --config-root="$root"
assert_contains "$ASSERT_OUTPUT" "$root/apprunnerd.conf:4:" "--config-root message"
assert_contains "$ASSERT_OUTPUT" "Connections" "--config-root message"
assert_contains "$ASSERT_OUTPUT" "many" "--config-root message"
