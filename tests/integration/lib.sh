# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Helpers for integration tests. run.sh runs each test-*.sh inside the
# container as `bash /src/tests/integration/test-NAME.sh`, and the test
# starts with:
#
#   . "$(dirname "$0")/lib.sh"
#
# A test passes by exiting 0, is skipped by calling `skip REASON` (exit 77)
# and fails on any other exit status. Sourcing this file turns on
# `set -eEuo pipefail`, so an unchecked failing command also fails the test,
# and the ERR trap prints its line. Every assertion prints what it expected
# and what it got, then exits 1.
#
# NOTE: the test script enters the container with nsenter, so it keeps the
# host's capabilities and is not under systemd-nspawn's seccomp filter.
# Processes that the container's systemd starts (apprunnerd, units from
# systemd-run) are under both, so check behaviour there, not in the script.
#
# Variables set by run.sh:
#   IT_SRC       the source tree, read-only (/src)
#   IT_SCRATCH   a host directory that is not on overlayfs, for bundles,
#                image layouts and overlay mounts (/var/tmp/apprunner-it)

set -eEuo pipefail

IT_SRC=${IT_SRC:-/src}
IT_SCRATCH=${IT_SCRATCH:-/var/tmp/apprunner-it}
APPRUNNER_BUS_NAME=org.apprunner1
APPRUNNER_MANAGER_PATH=/org/apprunner1
APPRUNNER_MANAGER_INTERFACE=org.apprunner1.Manager

# Commands registered with at_exit, run in reverse order when the test exits.
_it_exit_commands=()

_it_on_exit() {
        local status=$? i
        set +e
        trap - ERR
        for ((i = ${#_it_exit_commands[@]} - 1; i >= 0; i--)); do
                eval "${_it_exit_commands[i]}"
        done
        exit "$status"
}
trap _it_on_exit EXIT

trap 'echo "FAIL: ${BASH_SOURCE[0]##*/}:$LINENO: command failed (status $?): $BASH_COMMAND" >&2' ERR

# Register a shell command to run when the test exits, whether it passes or
# fails. Commands run last-registered first and their failures are ignored.
at_exit() {
        _it_exit_commands+=("$*")
}

log() {
        echo "--- $*"
}

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# Exit with status 77, which run.sh reports as "ok N - name # SKIP REASON".
skip() {
        echo "SKIP: $*"
        exit 77
}

# assert_eq EXPECTED ACTUAL [MESSAGE]
assert_eq() {
        [[ $1 == "$2" ]] || fail "${3:-values differ}: expected '$1', got '$2'"
}

# assert_contains HAYSTACK NEEDLE [MESSAGE]
# Fails unless HAYSTACK contains NEEDLE as a substring.
assert_contains() {
        [[ $1 == *"$2"* ]] || fail "${3:-missing substring}: '$2' not found in:"$'\n'"$1"
}

# assert_not_contains HAYSTACK NEEDLE [MESSAGE]
assert_not_contains() {
        [[ $1 != *"$2"* ]] || fail "${3:-unexpected substring}: '$2' found in:"$'\n'"$1"
}

# assert_ok COMMAND [ARG...]
# Runs COMMAND and fails the test, with its output, if it exits non-zero.
assert_ok() {
        local output status=0
        output=$("$@" 2>&1) || status=$?
        [[ $status -eq 0 ]] || fail "command failed with status $status: $*"$'\n'"$output"
}

# assert_fail COMMAND [ARG...]
# Runs COMMAND, which must exit non-zero. Its combined stdout and stderr are
# left in $ASSERT_OUTPUT, so the test can check the error message.
assert_fail() {
        local status=0
        ASSERT_OUTPUT=$("$@" 2>&1) || status=$?
        [[ $status -ne 0 ]] || fail "command succeeded but was expected to fail: $*"$'\n'"$ASSERT_OUTPUT"
}

# wait_until TIMEOUT COMMAND [ARG...]
# Runs COMMAND every 0.2 s until it exits 0. Fails the test after TIMEOUT
# seconds (decimals allowed) and shows the last attempt's output.
wait_until() {
        local timeout=$1 output=
        shift
        local deadline
        deadline=$(awk -v now="$(date +%s.%N)" -v t="$timeout" 'BEGIN { printf "%.3f", now + t }')
        while true; do
                if output=$("$@" 2>&1); then
                        return 0
                fi
                if awk -v now="$(date +%s.%N)" -v d="$deadline" 'BEGIN { exit !(now > d) }'; then
                        fail "timed out after ${timeout}s waiting for: $*"$'\n'"last output: $output"
                fi
                sleep 0.2
        done
}

# busctl_call OBJECT_PATH INTERFACE METHOD [SIGNATURE [ARG...]]
# Calls a method on apprunnerd and prints the reply in busctl's JSON form
# ({"type": "...", "data": [...]}), which jq can read.
busctl_call() {
        busctl --json=short call "$APPRUNNER_BUS_NAME" "$@"
}

# manager_call METHOD [SIGNATURE [ARG...]]
# Calls a method of org.apprunner1.Manager on /org/apprunner1.
manager_call() {
        busctl_call "$APPRUNNER_MANAGER_PATH" "$APPRUNNER_MANAGER_INTERFACE" "$@"
}

# bus_property OBJECT_PATH INTERFACE PROPERTY
# Prints a property of an apprunnerd object in busctl's JSON form.
bus_property() {
        busctl --json=short get-property "$APPRUNNER_BUS_NAME" "$@"
}

# leftovers
# Prints one line per resource that apprunnerd creates for services and must
# remove when they are deleted: units named apprunner-* other than
# apprunner-ingress.service and .socket, network namespaces /run/netns/apprunner-*,
# mounts below /var/lib/apprunner, and instance directories in
# /var/lib/apprunner/instances/.
# Prints nothing when nothing is left.
leftovers() {
        systemctl list-units --all --plain --no-legend --no-pager 'apprunner-*' |
                awk '$1 != "apprunner-ingress.service" && $1 != "apprunner-ingress.socket" {
                        print "unit " $1 " " $3 "/" $4 }'

        local netns
        for netns in /run/netns/apprunner-*; do
                [[ -e $netns ]] && echo "netns ${netns##*/}"
        done

        findmnt -rn -o TARGET,FSTYPE | awk '
                $1 == "/var/lib/apprunner" { next }
                index($1, "/var/lib/apprunner/") == 1 { print "mount " $1 " " $2 }'

        local dir
        for dir in /var/lib/apprunner/instances/*; do
                [[ -e $dir ]] && echo "instance directory $dir: $(ls -A "$dir" | tr '\n' ' ')"
        done
        return 0
}

# assert_no_leftovers [MESSAGE]
assert_no_leftovers() {
        local found
        found=$(leftovers)
        [[ -z $found ]] || fail "${1:-resources left behind}:"$'\n'"$found"
}

# make_busybox_bundle DIR [ARG...]
# Creates an OCI runtime bundle in DIR (config.json from `crun spec` and a
# rootfs holding only busybox-static) whose process runs ARG... (default:
# busybox sh). The process runs without a terminal, so its output goes to the
# caller's stdout, or to the journal inside a unit.
make_busybox_bundle() {
        local dir=$1
        shift
        local busybox
        busybox=$(command -v busybox) || fail "busybox not found; install busybox-static"
        [[ $(ldd "$busybox" 2>&1 || true) == *"not a dynamic executable"* ]] ||
                fail "$busybox is not statically linked; install busybox-static"

        mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,tmp}
        cp "$busybox" "$dir/rootfs/bin/busybox"
        ln -sf busybox "$dir/rootfs/bin/sh"

        local args
        if [[ $# -eq 0 ]]; then
                set -- /bin/busybox sh
        fi
        args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
        (cd "$dir" && rm -f config.json && crun spec)
        jq --argjson args "$args" '.process.args = $args | .process.terminal = false' \
                "$dir/config.json" >"$dir/config.json.new"
        mv "$dir/config.json.new" "$dir/config.json"
}
