#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks that the container provides what apprunnerd relies on, without
# apprunnerd: systemd and D-Bus, transient units running crun, network
# namespaces, overlay mounts in the state directory and HAProxy. When this
# test fails, the other integration tests cannot pass either.

. "$(dirname "$0")/lib.sh"

log "systemd is PID 1 and the system is up"
assert_eq systemd "$(cat /proc/1/comm)" "PID 1"
state=$(systemctl is-system-running || true)
[[ $state == running || $state == degraded ]] || fail "system state is '$state', expected running or degraded"

log "busctl reaches the system bus"
assert_ok busctl status
assert_contains "$(busctl list --no-pager)" org.freedesktop.systemd1

log "a transient unit runs a busybox container with crun"
bundle=$(mktemp -d "$IT_SCRATCH/crun-probe.XXXXXX")
at_exit "rm -rf '$bundle'"
marker="it-crun-probe-$RANDOM$RANDOM"
make_busybox_bundle "$bundle" /bin/busybox sh -c "echo $marker; cat /proc/self/cgroup"
# Without a cgroup namespace the container's /proc/self/cgroup shows the
# cgroup path, which must be the unit's.
jq 'del(.linux.namespaces[] | select(.type == "cgroup"))' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

unit=it-crun-probe
at_exit "systemctl reset-failed $unit.service 2>/dev/null"
# crun inside systemd-nspawn needs --no-new-keyring because nspawn's seccomp
# filter blocks the keyctl() call that creates a session keyring.
# --cgroup-manager=disabled keeps the container in the unit's cgroup, which
# carries MemoryMax. Inside nspawn the controllers are read-only, so the
# kernel does not enforce it.
assert_ok systemd-run --unit="$unit" -p MemoryMax=64M --wait --quiet \
        crun --cgroup-manager=disabled run --no-new-keyring --bundle "$bundle" "$unit"
wait_until 5 sh -c "journalctl -u $unit.service --no-pager -o cat | grep -q -- '$marker'"
journal=$(journalctl -u "$unit.service" --no-pager -o cat)
assert_contains "$journal" "$unit.service" "the container's /proc/self/cgroup names the unit's cgroup"

log "ip netns add and delete work"
netns="apprunner-it-probe-$$"
at_exit "ip netns delete $netns 2>/dev/null"
assert_ok ip netns add "$netns"
assert_contains "$(ip netns list)" "$netns"
assert_ok ip -n "$netns" link set lo up
assert_contains "$(ip -n "$netns" -brief link show lo)" UP
assert_ok ip netns delete "$netns"
assert_not_contains "$(ip netns list)" "$netns"

log "overlayfs mounts on /var/lib/apprunner"
mountpoint -q /var/lib/apprunner || fail "/var/lib/apprunner is not a bind mount from the host"
overlay=$(mktemp -d /var/lib/apprunner/it-overlay.XXXXXX)
at_exit "umount '$overlay/merged' 2>/dev/null; rm -rf '$overlay'"
mkdir "$overlay"/{lower,upper,work,merged}
echo lower >"$overlay/lower/file"
assert_ok mount -t overlay overlay \
        -o "lowerdir=$overlay/lower,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/merged"
assert_eq lower "$(cat "$overlay/merged/file")"
echo upper >"$overlay/merged/file"
assert_eq lower "$(cat "$overlay/lower/file")" "lower layer after a write through the overlay"
assert_eq upper "$(cat "$overlay/upper/file")" "upper layer after a write through the overlay"
assert_contains "$(leftovers)" "mount $overlay/merged overlay"
assert_ok umount "$overlay/merged"

log "haproxy runs"
assert_contains "$(/usr/sbin/haproxy -v)" "HAProxy version"

log "nothing is left behind"
rm -rf "$overlay"
assert_no_leftovers
