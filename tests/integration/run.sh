#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Boot real systemd in a systemd-nspawn container with the build installed,
# run the integration tests inside it and print TAP.
#
#   tests/integration/run.sh [BUILD_DIR] [TEST...]
#
# BUILD_DIR defaults to ./build and must already be built: this script only
# runs `meson install --destdir` into the container's root. TEST is a script
# name under tests/integration/ with or without the "test-" prefix and ".sh"
# suffix (test-container.sh, test-container, container); the default is every
# test-*.sh. Must run as root.
#
# The container's root is an overlay whose lower layer is the host's /, so
# the host's packages (systemd, dbus, crun, haproxy, ...) are used unchanged,
# and the container's writes land in the overlay's upper directory inside
# the work directory (/var/tmp/apprunner-it.XXXXXX). The source
# tree is bound read-only at /src. Two host directories are bound read-write,
# because overlayfs rejects an upper directory on overlayfs and apprunnerd
# and tests build overlay roots there:
#   /var/lib/apprunner       apprunnerd's StateDirectory=
#   /var/tmp/apprunner-it    scratch space and test logs ($IT_SCRATCH)
#
# Environment:
#   KEEP=1              keep the work directory (logs, the container's
#                       journal in upper/var/log/journal) after the run
#   BOOT_TIMEOUT=60     whole seconds to wait for the container's systemd to boot
#   TEST_TIMEOUT=300    seconds each test script may run
#   LOCK_TIMEOUT=1800   seconds to wait for another run to finish
#   IT_WORKDIR_BASE=/var/tmp   where the work directory is created
#
# Runs are serialized with a lock file because systemd-nspawn 252 with
# --keep-unit moves the container into the cgroup "payload" below the
# caller's cgroup (and itself into "supervisor"), so two containers booted
# at once from the same cgroup would share their unit cgroups. nspawn
# leaves these two empty cgroups behind, and this script does not touch them.

set -euo pipefail

BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
LOCK_TIMEOUT=${LOCK_TIMEOUT:-1800}
STOP_TIMEOUT=15
KEEP=${KEEP:-0}
LOCK_FILE=/run/lock/apprunner-it.lock

# Host units that the Debian packages enable and that must not start in the
# container, whether or not they are enabled on the host right now. Every
# other unit enabled in a .wants directory of multi-user.target or
# timers.target is masked as well (see mask_host_units).
MASKED_UNITS=(haproxy.service docker-registry.service postgresql.service)

die() {
        echo "run.sh: $*" >&2
        exit 2
}

info() {
        echo "# $*"
}

now() {
        date +%s.%N
}

elapsed_since() {
        awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'
}

# Prefix every line of stdin with "# " so that it reads as a TAP comment.
tap_comment() {
        sed 's/^/# /'
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_root=$(cd "$script_dir/../.." && pwd)

[[ $EUID -eq 0 ]] || die "must run as root (it mounts an overlay and boots systemd-nspawn)"
for tool in meson systemd-nspawn nsenter findmnt flock systemctl systemd-id128; do
        command -v "$tool" >/dev/null || die "$tool not found; run .ci/run or install it"
done

build_dir=${1:-build}
[[ $# -gt 0 ]] && shift
[[ -f $build_dir/build.ninja ]] || die "$build_dir is not a meson build directory; run: meson setup $build_dir && ninja -C $build_dir"
build_dir=$(cd "$build_dir" && pwd)

# Resolve the test names to script paths before anything is mounted.
tests=()
if [[ $# -eq 0 ]]; then
        for path in "$script_dir"/test-*.sh; do
                [[ -e $path ]] && tests+=("$path")
        done
else
        for name in "$@"; do
                name=${name##*/}
                name=${name%.sh}
                name=test-${name#test-}.sh
                [[ -f $script_dir/$name ]] || die "no test $name in $script_dir"
                tests+=("$script_dir/$name")
        done
fi
[[ ${#tests[@]} -gt 0 ]] || die "no test-*.sh in $script_dir"

# `meson install --no-rebuild` installs whatever is built, so warn about a
# stale build directory instead of silently testing old binaries.
if command -v ninja >/dev/null && ! ninja -C "$build_dir" -n 2>/dev/null | grep -q "no work to do"; then
        info "WARNING: $build_dir is not up to date; run ninja -C $build_dir first"
fi

exec 9>"$LOCK_FILE"
if ! flock -n 9; then
        info "waiting up to ${LOCK_TIMEOUT}s for another integration run ($LOCK_FILE)"
        flock -w "$LOCK_TIMEOUT" 9 || die "timed out waiting for $LOCK_FILE"
fi

run_start=$(now)
work_dir=
root_dir=
nspawn_pid=
container_pid=
machine_name=
image_lock=
exit_status=0

# Run a command inside the container as a login-less root shell would:
# every namespace of the container's PID 1 and a clean environment.
in_container() {
        nsenter -t "$container_pid" -a \
                env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
                IT_SRC=/src IT_SCRATCH=/var/tmp/apprunner-it \
                "$@"
}

stop_container() {
        [[ -n $nspawn_pid ]] || return 0

        # Boot may have failed before the container's PID 1 was found.
        [[ -n $container_pid ]] || container_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)

        if [[ -n $container_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
                timeout 5 nsenter -t "$container_pid" -a systemctl poweroff --no-block >/dev/null 2>&1 || true
        fi

        # systemctl fails until PID 1 listens on its private socket, and
        # systemd ignores SIGRTMIN+4 (power off) until it has installed its
        # signal handlers, so repeat the signal every second. Before PID 1
        # exists, SIGTERM makes nspawn stop the container it is setting up.
        local deadline=$((SECONDS + STOP_TIMEOUT)) next_signal=$((SECONDS + 1))
        while kill -0 "$nspawn_pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
                if [[ $SECONDS -ge $next_signal ]]; then
                        [[ -n $container_pid ]] || container_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)
                        if [[ -n $container_pid ]]; then
                                kill -s RTMIN+4 "$container_pid" 2>/dev/null || true
                        else
                                kill -TERM "$nspawn_pid" 2>/dev/null || true
                        fi
                        next_signal=$((SECONDS + 1))
                fi
                sleep 0.2
        done

        # Killing the container's PID 1 ends its PID namespace, which makes
        # nspawn exit; killing only nspawn would leave the container running.
        if kill -0 "$nspawn_pid" 2>/dev/null; then
                info "container did not power off within ${STOP_TIMEOUT}s; killing it"
                [[ -n $container_pid ]] && kill -KILL "$container_pid" 2>/dev/null || true
                deadline=$((SECONDS + 5))
                while kill -0 "$nspawn_pid" 2>/dev/null && [[ $SECONDS -lt $deadline ]]; do
                        sleep 0.2
                done
                kill -KILL "$nspawn_pid" 2>/dev/null || true
        fi

        wait "$nspawn_pid" 2>/dev/null || true
        nspawn_pid=

        # nspawn removes these on a clean exit, but not when it is killed,
        # and refuses to when /run is not a tmpfs.
        rmdir "/run/systemd/nspawn/propagate/$machine_name" 2>/dev/null || true
        [[ -n $image_lock ]] && rm -f "$image_lock"
}

# Print every mount point at or below the work directory, deepest first.
mounts_below_work_dir() {
        findmnt -rn -o TARGET | awk -v dir="$work_dir" 'index($0, dir "/") == 1 || $0 == dir' | sort -r
}

teardown() {
        local status=$?
        set +e
        [[ $status -ne 0 && $exit_status -eq 0 ]] && exit_status=$status

        stop_container

        if [[ -n $work_dir ]]; then
                local target
                while read -r target; do
                        umount "$target" || info "failed to unmount $target"
                done < <(mounts_below_work_dir)

                local leftovers
                leftovers=$(mounts_below_work_dir)
                if [[ -n $leftovers ]]; then
                        info "mounts left behind, keeping $work_dir:"
                        echo "$leftovers" | tap_comment
                        exit_status=1
                elif [[ $KEEP == 1 ]]; then
                        info "kept $work_dir (journal: journalctl -D $work_dir/upper/var/log/journal)"
                else
                        # --one-file-system: never follow into a mount point
                        # that appeared after the check above.
                        rm -rf --one-file-system "$work_dir"
                fi
        fi

        info "total time $(elapsed_since "$run_start")s"
        exit "$exit_status"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work_dir=$(mktemp -d "${IT_WORKDIR_BASE:-/var/tmp}/apprunner-it.XXXXXX")
root_dir=$work_dir/root
mkdir -p "$work_dir"/{upper,overlay-work,root,state,scratch/logs}
info "work directory $work_dir"

mount -t overlay overlay \
        -o "lowerdir=/,upperdir=$work_dir/upper,workdir=$work_dir/overlay-work" "$root_dir"

DESTDIR=$root_dir meson install -C "$build_dir" --no-rebuild --quiet >"$work_dir/install.log" 2>&1 || {
        cat "$work_dir/install.log" | tap_comment
        die "meson install into $root_dir failed"
}

# A fresh machine ID makes the container's journal and D-Bus identity its
# own. An empty file would instead mean "first boot", which runs
# `systemctl preset-all` and may enable units the host has disabled.
systemd-id128 new >"$root_dir/etc/machine-id"
if [[ -d $root_dir/var/lib/dbus ]]; then
        ln -sf /etc/machine-id "$root_dir/var/lib/dbus/machine-id"
fi

mask_host_units() {
        local unit link
        local -A masked=()
        for unit in "${MASKED_UNITS[@]}"; do
                masked[$unit]=1
        done
        for link in "$root_dir"/etc/systemd/system/{multi-user,timers}.target.wants/*; do
                [[ -L $link ]] || continue
                unit=${link##*/}
                case $unit in
                apprunner*) ;;
                *.service | *.timer | *.socket | *.path) masked[$unit]=1 ;;
                esac
        done
        systemctl --root="$root_dir" mask "${!masked[@]}" >/dev/null 2>&1 ||
                die "systemctl --root=$root_dir mask ${!masked[*]} failed"
}
mask_host_units

# Enable apprunner's units as the package's postinst would, wherever the
# build's prefix put them.
for unit_dir in usr/lib/systemd/system usr/local/lib/systemd/system etc/systemd/system; do
        if [[ -e $root_dir/$unit_dir/apprunnerd.service ]]; then
                systemctl --root="$root_dir" enable apprunnerd.service >/dev/null 2>&1 ||
                        die "systemctl --root=$root_dir enable apprunnerd.service failed"
                info "enabled apprunnerd.service from /$unit_dir"
                break
        fi
done

machine_name=apprunner-it-${work_dir##*.}
# The lock file nspawn takes on the image directory, named after the
# directory's device and inode numbers.
image_lock=/run/systemd/nspawn/locks/inode-$(stat -c %d:%i "$root_dir")

boot_start=$(now)
systemd-nspawn -D "$root_dir" --register=no --keep-unit --private-network \
        --boot --console=pipe --machine="$machine_name" \
        --bind="$work_dir/state:/var/lib/apprunner" \
        --bind="$work_dir/scratch:/var/tmp/apprunner-it" \
        --bind-ro="$source_root:/src" \
        </dev/null >"$work_dir/console.log" 2>&1 &
nspawn_pid=$!

# nspawn forks the container's PID 1 as its direct child.
deadline=$((SECONDS + BOOT_TIMEOUT))
while [[ -z $container_pid ]]; do
        container_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)
        if ! kill -0 "$nspawn_pid" 2>/dev/null; then
                tap_comment <"$work_dir/console.log"
                die "systemd-nspawn exited during boot"
        fi
        [[ $SECONDS -lt $deadline ]] || die "no systemd process below systemd-nspawn (PID $nspawn_pid) after ${BOOT_TIMEOUT}s"
        [[ -n $container_pid ]] || sleep 0.1
done

# is-system-running fails until the container's D-Bus is up, so retry it.
state=
while [[ $SECONDS -lt $deadline ]]; do
        state=$(timeout $((deadline - SECONDS + 1)) nsenter -t "$container_pid" -a \
                systemctl is-system-running --wait 2>/dev/null || true)
        [[ $state == running || $state == degraded ]] && break
        sleep 0.2
done
case $state in
running) info "container booted in $(elapsed_since "$boot_start")s (state running)" ;;
degraded)
        info "container booted in $(elapsed_since "$boot_start")s (state degraded); failed units:"
        in_container systemctl --failed --no-legend --plain | tap_comment
        ;;
*)
        info "container did not boot within ${BOOT_TIMEOUT}s (state '${state:-unknown}'); console:"
        tail -n 50 "$work_dir/console.log" | tap_comment
        in_container systemctl list-jobs --no-pager 2>&1 | tap_comment || true
        die "boot failed"
        ;;
esac

echo "1..${#tests[@]}"
number=0
for path in "${tests[@]}"; do
        number=$((number + 1))
        name=$(basename "$path" .sh)
        log=$work_dir/scratch/logs/$name.log
        test_start=$(now)

        # timeout runs inside the container, so on expiry it signals the
        # test's whole process group there.
        status=0
        in_container timeout -k 5 "$TEST_TIMEOUT" /bin/bash "/src/tests/integration/${path##*/}" \
                >"$log" 2>&1 || status=$?
        duration=$(elapsed_since "$test_start")

        if [[ $status -eq 0 ]]; then
                echo "ok $number - $name (${duration}s)"
        elif [[ $status -eq 77 ]]; then
                echo "ok $number - $name # SKIP $(grep -m1 '^SKIP: ' "$log" | cut -c7- || true)"
        else
                exit_status=1
                if [[ $status -eq 124 ]]; then
                        echo "not ok $number - $name (timed out after ${TEST_TIMEOUT}s)"
                else
                        echo "not ok $number - $name (exit status $status, ${duration}s)"
                fi
                echo "# --- output of $name"
                tap_comment <"$log"
                echo "# --- journalctl -b -n 200 inside the container"
                in_container journalctl -b --no-pager -n 200 2>&1 | tap_comment || true
                # CI keeps only the end of the log: repeat the reason there.
                echo "# --- last lines of the output of $name"
                tail -n 8 "$log" | tap_comment
        fi

        # All tests share one container, so report what a test left behind:
        # it can make later tests fail.
        left=$(in_container /bin/bash -c '. /src/tests/integration/lib.sh && leftovers' 2>&1 || true)
        if [[ -n $left ]]; then
                echo "# WARNING: $name left these behind:"
                tap_comment <<<"$left"
        fi
done

exit "$exit_status"
