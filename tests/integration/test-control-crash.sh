#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# apprunnerd killed with SIGKILL while it writes state. A background loop
# creates auto scaling configuration revisions and connections and deletes
# some of them, as fast as busctl can call. The test kills the daemon in
# the middle, restarts it and checks the state it loads again:
#   - every create and delete that got a reply is still in effect,
#   - every state document parses as JSON,
#   - no temporary ".#" file is left and nothing was moved to corrupt/,
#   - every stored connection has its secret, intact, and every secret
#     belongs to a stored connection.
# The request in flight at the kill may or may not have taken effect.
# Finally it plants corrupt documents and checks that apprunnerd moves them
# to /var/lib/apprunner/corrupt/ and names them in the journal.

. "$(dirname "$0")/lib.sh"

STATE=/var/lib/apprunner
ROUNDS=4
# Maximum number of connections the loop keeps, below the default quota of 10.
CONNECTIONS_KEPT=5

work=$(mktemp -d "$IT_SCRATCH/control-crash.XXXXXX")
at_exit "rm -rf '$work'"

# loop_call METHOD SIGNATURE [ARG...]: manager_call with a timeout of 5 s.
# A call that reaches apprunnerd just before the kill gets no reply, and
# busctl would wait its default 25 s for one.
loop_call() {
        busctl --json=short --timeout=5 call "$APPRUNNER_BUS_NAME" "$APPRUNNER_MANAGER_PATH" \
                "$APPRUNNER_MANAGER_INTERFACE" "$@"
}

asc_status() {
        bus_property "$1" org.apprunner1.AutoScalingConfiguration Status | jq -r .data
}

# write_loop ROUND RECORD STOP_FILE
# Creates revisions of crash-asc-ROUND until it has 10 (the quota of
# active revisions), then deletes all of them, and creates connections
# crash-c-ROUND-N, deleting the oldest when it has CONNECTIONS_KEPT. Each
# request is written to RECORD as "pending ..." before the call and as its
# result after the reply. Stops at the first failed call or when STOP_FILE
# exists.
write_loop() {
        local round=$1 record=$2 stop=$3
        local asc=crash-asc-$round revisions=0 n=0 output path arn
        local -a kept_names=() kept_arns=()

        while [[ ! -e $stop ]]; do
                echo "pending create-asc $asc" >>"$record"
                output=$(loop_call CreateAutoScalingConfiguration 'sa{sv}' "$asc" 1 MaxSize u 3) ||
                        break
                echo "asc-created $asc $(jq -r '.data[0]' <<<"$output")" >>"$record"
                revisions=$((revisions + 1))
                if ((revisions == 10)); then
                        echo "pending delete-all $asc" >>"$record"
                        loop_call DeleteAutoScalingConfiguration sb "$arn_prefix/autoscalingconfiguration/$asc" true \
                                >/dev/null || break
                        echo "asc-deleted-all $asc" >>"$record"
                        revisions=0
                fi

                n=$((n + 1))
                echo "pending create-connection crash-c-$round-$n" >>"$record"
                output=$(loop_call CreateConnection 'ssa{sv}' "crash-c-$round-$n" REGISTRY 2 \
                        Username s "user-$n" Password s "secret-$n") || break
                path=$(jq -r '.data[0]' <<<"$output")
                echo "connection-created crash-c-$round-$n $path" >>"$record"
                arn=$(busctl --json=short --timeout=5 get-property "$APPRUNNER_BUS_NAME" "$path" \
                        org.apprunner1.Connection ConnectionArn | jq -r .data) || break
                kept_names+=("crash-c-$round-$n")
                kept_arns+=("$arn")
                if ((${#kept_names[@]} >= CONNECTIONS_KEPT)); then
                        echo "pending delete-connection ${kept_names[0]}" >>"$record"
                        loop_call DeleteConnection s "${kept_arns[0]}" >/dev/null || break
                        echo "connection-deleted ${kept_names[0]}" >>"$record"
                        kept_names=("${kept_names[@]:1}")
                        kept_arns=("${kept_arns[@]:1}")
                fi
        done
        echo "stopped" >>"$record"
}

# Deletes every connection named crash-c-*, so that each round starts far
# from the connection quota.
delete_crash_connections() {
        local arn
        for arn in $(manager_call ListConnections sus "" 0 "" |
                jq -r '.data[0][] | select(.[0] | startswith("crash-c-")) | .[1]'); do
                manager_call DeleteConnection s "$arn" >/dev/null
        done
}

delete_crash_auto_scaling() {
        local round
        for round in $(seq "$ROUNDS"); do
                manager_call DeleteAutoScalingConfiguration sb \
                        "$arn_prefix/autoscalingconfiguration/crash-asc-$round" true >/dev/null 2>&1 || true
        done
}

# check_state_files: every document parses, no temporary file is left and
# corrupt/ is empty.
check_state_files() {
        local file temporary corrupt
        while read -r file; do
                jq -e . "$file" >/dev/null 2>&1 || fail "state file $file does not parse as JSON:"$'\n'"$(head -c 400 "$file")"
        done < <(find "$STATE"/{services,operations,auto-scaling-configurations,connections} -type f -name '*.json')

        temporary=$(find "$STATE" -path "$STATE/images" -prune -o -name '.#*' -print)
        [[ -z $temporary ]] || fail "temporary files left after the restart:"$'\n'"$temporary"

        corrupt=$(find "$STATE/corrupt" -mindepth 1 2>/dev/null || true)
        [[ -z $corrupt ]] || fail "files moved to $STATE/corrupt:"$'\n'"$corrupt"
}

# check_connection_secrets: every stored connection has a secret in
# secrets/, either encrypted with systemd-creds (ID.cred) or as a plain
# root-only file (ID.secret), and the secret is the password that
# write_loop sent for it ("secret-N" for connection crash-c-ROUND-N).
check_connection_secrets() {
        local file id name expected secret
        for file in "$STATE"/connections/*.json; do
                [[ -e $file ]] || continue
                id=$(basename "$file" .json)
                name=$(jq -r .ConnectionName "$file")
                [[ $name == crash-c-* ]] || continue
                expected=secret-${name##*-}
                if [[ -e $STATE/secrets/$id.cred ]]; then
                        secret=$(systemd-creds decrypt --name="$id" "$STATE/secrets/$id.cred" -) ||
                                fail "systemd-creds cannot decrypt the secret of connection $name ($id)"
                elif [[ -e $STATE/secrets/$id.secret ]]; then
                        secret=$(cat "$STATE/secrets/$id.secret")
                else
                        fail "connection $name ($id) has no secret in $STATE/secrets:"$'\n'"$(ls -la "$STATE/secrets")"
                fi
                assert_eq "$expected" "$secret" "secret of connection $name"
        done

        # The reverse: no secret outlives its connection document.
        for file in "$STATE"/secrets/*; do
                [[ -e $file ]] || continue
                id=$(basename "$file")
                id=${id%.*}
                [[ -e $STATE/connections/$id.json ]] ||
                        fail "secret $file belongs to no stored connection"
        done
}

# check_record RECORD: compares what the daemon loaded with the replies
# written to RECORD by write_loop.
check_record() {
        local record=$1 kind name path uncertain=
        local -A asc_expected=() asc_name=() connection_expected=() connection_path=()

        # The last "pending" line without a result is the request in flight.
        if [[ $(grep -v '^stopped$' "$record" | tail -n1) == pending* ]]; then
                uncertain=$(grep -v '^stopped$' "$record" | tail -n1)
        fi

        while read -r kind name path; do
                case $kind in
                asc-created)
                        asc_expected[$path]=ACTIVE
                        asc_name[$path]=$name
                        ;;
                asc-deleted-all)
                        for path in "${!asc_name[@]}"; do
                                [[ ${asc_name[$path]} == "$name" ]] && asc_expected[$path]=INACTIVE
                        done
                        ;;
                connection-created)
                        connection_expected[$name]=present
                        connection_path[$name]=$path
                        ;;
                connection-deleted)
                        connection_expected[$name]=absent
                        ;;
                esac
        done <"$record"

        for path in "${!asc_expected[@]}"; do
                if [[ $uncertain == "pending delete-all ${asc_name[$path]}" ]]; then
                        continue
                fi
                assert_eq "${asc_expected[$path]}" "$(asc_status "$path")" \
                        "Status of revision $path of ${asc_name[$path]} after the restart"
        done

        local listed
        listed=$(manager_call ListConnections sus "" 0 "" | jq -r '.data[0][][0]')
        for name in "${!connection_expected[@]}"; do
                if [[ $uncertain == "pending delete-connection $name" ]]; then
                        continue
                fi
                if [[ ${connection_expected[$name]} == present ]]; then
                        grep -qx -- "$name" <<<"$listed" || fail "connection $name got a reply but is missing after the restart"
                        assert_eq AVAILABLE "$(bus_property "${connection_path[$name]}" org.apprunner1.Connection Status |
                                jq -r .data)" "Status of connection $name"
                else
                        grep -qx -- "$name" <<<"$listed" && fail "connection $name was deleted but is listed after the restart"
                fi
        done
        echo "${#asc_expected[@]} revisions and ${#connection_expected[@]} connections checked; in flight: ${uncertain:-nothing}"
}

region=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" Region | jq -r .data)
account=$(bus_property "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" AccountId | jq -r .data)
arn_prefix="arn:aws:apprunner:$region:$account"

at_exit delete_crash_auto_scaling
at_exit delete_crash_connections

log "the state directory is clean before the test"
check_state_files

for round in $(seq "$ROUNDS"); do
        log "round $round: SIGKILL during writes"
        delete_crash_connections
        record=$work/record-$round
        stop=$work/stop-$round
        : >"$record"
        write_loop "$round" "$record" "$stop" &
        loop_pid=$!

        # Let the loop get through a few requests, then kill at a point
        # that differs from round to round.
        wait_until 10 grep -q '^connection-created' "$record"
        sleep "0.$((RANDOM % 400 + 100))"
        # The restarts of all rounds exceed systemd's default start rate
        # limit (5 starts in 10 s), so the counter is reset before each.
        systemctl reset-failed apprunnerd.service
        systemctl kill -s SIGKILL apprunnerd.service
        touch "$stop"
        wait "$loop_pid" || true

        replies=$(grep -vc '^pending\|^stopped' "$record" || true)
        echo "round $round: $replies replies before the kill"

        systemctl reset-failed apprunnerd.service
        systemctl restart apprunnerd.service
        assert_eq active "$(systemctl is-active apprunnerd.service)" "apprunnerd after the restart"

        check_state_files
        check_connection_secrets
        check_record "$record"
done

log "a truncated document is moved to corrupt/ and named in the journal"
truncated_id=0123456789abcdef0123456789abcdef
invalid_id=fedcba9876543210fedcba9876543210
at_exit "rm -f '$STATE'/corrupt/auto-scaling-configurations-$truncated_id.json.* '$STATE'/corrupt/auto-scaling-configurations-$invalid_id.json.*"
some_revision=$(find "$STATE/auto-scaling-configurations" -name '*.json' -print -quit)
head -c 40 "$some_revision" >"$STATE/auto-scaling-configurations/$truncated_id.json"
# Valid JSON that is not an auto scaling configuration.
echo '{"unrelated": true}' >"$STATE/auto-scaling-configurations/$invalid_id.json"

since=$(date +%s)
sleep 1
systemctl reset-failed apprunnerd.service
systemctl restart apprunnerd.service
assert_eq active "$(systemctl is-active apprunnerd.service)" "apprunnerd with corrupt documents"
for id in "$truncated_id" "$invalid_id"; do
        [[ ! -e $STATE/auto-scaling-configurations/$id.json ]] ||
                fail "$STATE/auto-scaling-configurations/$id.json was not moved away"
        compgen -G "$STATE/corrupt/auto-scaling-configurations-$id.json.*" >/dev/null ||
                fail "no $STATE/corrupt/auto-scaling-configurations-$id.json.* after the restart:"$'\n'"$(ls -la "$STATE/corrupt" 2>&1)"
done
journal=$(journalctl -u apprunnerd.service --since "@$since" --no-pager -o cat)
assert_contains "$journal" "$STATE/auto-scaling-configurations/$truncated_id.json is corrupt" "journal entry of the truncated file"
assert_contains "$journal" "$STATE/auto-scaling-configurations/$invalid_id.json is corrupt" "journal entry of the invalid file"
assert_contains "$journal" "moved it to $STATE/corrupt/auto-scaling-configurations-$truncated_id.json." "journal names the new path"
# The revisions stored next to the corrupt files were still loaded.
assert_eq ACTIVE "$(manager_call ListAutoScalingConfigurations sbus DefaultConfiguration true 0 "" | jq -r '.data[0][0][3]')" \
        "DefaultConfiguration after loading a directory with corrupt files"
