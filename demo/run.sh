#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install what apprunnerd needs, build it, and deploy the busybox sample
# service with demo/deploy-sample.sh. Run as root from the source tree on
# Debian 12:
#
#   demo/run.sh [--once] [SERVICE_NAME]      (as root)
#
# 1. Installs the packages of .ci/run's list that are missing (apt-get).
# 2. Builds with meson into build/ (--prefix=/usr, as a package installs it).
# 3. Runs apprunnerd under a real systemd:
#    - When PID 1 is not systemd (containers, some VMs), it boots systemd in
#      a systemd-nspawn container the way tests/integration/run.sh does: an
#      overlay over the host's / with the build installed into it. Nothing
#      is installed on the host. The container has its own network
#      namespace, so the service URL answers only inside it. Unless --once
#      is given, the container keeps running until Ctrl-C, and the script
#      prints the nsenter command that opens a shell in it.
#    - When PID 1 is systemd, it installs the build on the host with
#      `meson install`, creates the apprunner group and directories, and
#      starts apprunnerd.service there. The files stay installed; remove them
#      with `ninja -C build uninstall`. The ingress listens on 127.0.0.1:80,
#      so that port must be free.
# 4. Runs demo/deploy-sample.sh SERVICE_NAME (default "hello") there.
#
# --once deploys, requests the service once, then stops the container.
#
# Environment: BOOT_TIMEOUT=60 (seconds), LOCK_TIMEOUT=1800 (seconds to wait
# while an integration test run holds the container lock).

set -euo pipefail

BOOT_TIMEOUT=${BOOT_TIMEOUT:-60}
LOCK_TIMEOUT=${LOCK_TIMEOUT:-1800}
STOP_TIMEOUT=15
# The lock tests/integration/run.sh takes: nspawn 252 with --keep-unit puts
# the container below the caller's cgroup, so two containers booted at once
# from one cgroup would share their unit cgroups.
LOCK_FILE=/run/lock/apprunner-it.lock
# Host units that the Debian packages enable and that must not start in the
# container (the list tests/integration/run.sh masks).
MASKED_UNITS=(haproxy.service docker-registry.service postgresql.service)

once=0
service_name=hello
while [[ $# -gt 0 ]]; do
        case $1 in
        --once) once=1 ;;
        -h | --help)
                sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
                exit 0
                ;;
        -*)
                echo "demo/run.sh: unknown option '$1'; see demo/run.sh --help" >&2
                exit 2
                ;;
        *) service_name=$1 ;;
        esac
        shift
done

die() {
        echo "demo/run.sh: $*" >&2
        exit 2
}

info() {
        echo "== $*"
}

[[ $EUID -eq 0 ]] || die "must run as root"

source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$source_root"

# --- 1. packages ------------------------------------------------------------

# Take the package list from .ci/run, so that the demo and CI install the same.
packages_definition=$(sed -n '/^packages=(/,/^)/p' .ci/run)
[[ -n $packages_definition ]] || die "no packages=( ... ) list found in .ci/run"
eval "$packages_definition"

missing=()
for package in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
        info "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
else
        info "all ${#packages[@]} packages from .ci/run are installed"
fi

# --- 2. build ---------------------------------------------------------------

if [[ -f build/build.ninja ]]; then
        info "building in build/"
else
        info "configuring build/ (meson setup build --prefix=/usr)"
        meson setup build --prefix=/usr
fi
ninja -C build

# --- 3a. host systemd -------------------------------------------------------

if [[ $(cat /proc/1/comm 2>/dev/null) == systemd && -d /run/systemd/system ]]; then
        # NOTE: this branch has not been run on the development machines,
        # whose PID 1 is not systemd.
        info "PID 1 is systemd: installing the build on this host"
        meson install -C build --no-rebuild
        systemd-sysusers apprunner.conf
        systemd-tmpfiles --create apprunner.conf
        systemctl daemon-reload
        # dbus-daemon rereads its policy directory on changes; the reload
        # makes sure org.apprunner1.conf is in force before the first call.
        systemctl reload dbus.service || true
        systemctl enable --now apprunnerd.service
        exec demo/deploy-sample.sh "$service_name"
fi

# --- 3b. systemd in a container ---------------------------------------------

for tool in systemd-nspawn nsenter findmnt flock systemctl systemd-id128 pgrep; do
        command -v "$tool" >/dev/null || die "$tool not found"
done

exec 9>"$LOCK_FILE"
if ! flock -n 9; then
        info "waiting up to ${LOCK_TIMEOUT}s for another container run to finish ($LOCK_FILE)"
        flock -w "$LOCK_TIMEOUT" 9 || die "timed out waiting for $LOCK_FILE"
fi

work_dir=
root_dir=
nspawn_pid=
container_pid=
machine_name=
image_lock=
sleep_pid=
exit_status=0

# Run a command inside the container with a clean root environment.
in_container() {
        nsenter -t "$container_pid" -a \
                env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 \
                "$@"
}

# Power the container off, and kill it when it does not stop in time. The
# steps and their reasons are those of stop_container in
# tests/integration/run.sh.
stop_container() {
        [[ -n $nspawn_pid ]] || return 0
        [[ -n $container_pid ]] || container_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)

        if [[ -n $container_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
                timeout 5 nsenter -t "$container_pid" -a systemctl poweroff --no-block >/dev/null 2>&1 || true
        fi

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
        rmdir "/run/systemd/nspawn/propagate/$machine_name" 2>/dev/null || true
        [[ -n $image_lock ]] && rm -f "$image_lock"
}

mounts_below_work_dir() {
        findmnt -rn -o TARGET | awk -v dir="$work_dir" 'index($0, dir "/") == 1 || $0 == dir' | sort -r
}

teardown() {
        local status=$?
        set +e
        trap - INT TERM
        # Ctrl-C also ends a pager or `tee` reading this script's output, and
        # writing to that closed pipe must not end the cleanup.
        trap '' PIPE
        [[ $status -ne 0 && $exit_status -eq 0 ]] && exit_status=$status
        [[ -n $sleep_pid ]] && kill "$sleep_pid" 2>/dev/null

        info "stopping the container"
        stop_container

        if [[ -n $work_dir ]]; then
                local target leftovers
                while read -r target; do
                        umount "$target" || info "failed to unmount $target"
                done < <(mounts_below_work_dir)
                leftovers=$(mounts_below_work_dir)
                if [[ -n $leftovers ]]; then
                        info "mounts left behind, keeping $work_dir:"
                        echo "$leftovers"
                        exit_status=1
                else
                        rm -rf --one-file-system "$work_dir"
                fi
        fi
        exit "$exit_status"
}
trap teardown EXIT
# Ctrl-C ends a --once run or the wait below with status 0: stopping is
# what the user asked for.
trap 'exit 0' INT
trap 'exit 143' TERM

work_dir=$(mktemp -d /var/tmp/apprunner-demo.XXXXXX)
root_dir=$work_dir/root
mkdir -p "$work_dir"/{upper,overlay-work,root,state,scratch}
info "PID 1 is not systemd: booting systemd in a container, work directory $work_dir"

mount -t overlay overlay \
        -o "lowerdir=/,upperdir=$work_dir/upper,workdir=$work_dir/overlay-work" "$root_dir"

DESTDIR=$root_dir meson install -C build --no-rebuild --quiet >"$work_dir/install.log" 2>&1 || {
        cat "$work_dir/install.log"
        die "meson install into $root_dir failed"
}

# A fresh machine ID, not an empty file: an empty one means first boot,
# which runs `systemctl preset-all`.
systemd-id128 new >"$root_dir/etc/machine-id"
[[ -d $root_dir/var/lib/dbus ]] && ln -sf /etc/machine-id "$root_dir/var/lib/dbus/machine-id"

declare -A masked=()
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
systemctl --root="$root_dir" mask "${!masked[@]}" >/dev/null 2>&1 || die "systemctl --root=$root_dir mask failed"
systemctl --root="$root_dir" enable apprunnerd.service >/dev/null 2>&1 ||
        die "systemctl --root=$root_dir enable apprunnerd.service failed"

machine_name=apprunner-demo-${work_dir##*.}
image_lock=/run/systemd/nspawn/locks/inode-$(stat -c %d:%i "$root_dir")

# /var/lib/apprunner and /var/tmp/apprunner-demo are host directories,
# because overlayfs rejects an upper directory on overlayfs and apprunnerd
# builds the instances' overlay roots below /var/lib/apprunner.
systemd-nspawn -D "$root_dir" --register=no --keep-unit --private-network \
        --boot --console=pipe --machine="$machine_name" \
        --bind="$work_dir/state:/var/lib/apprunner" \
        --bind="$work_dir/scratch:/var/tmp/apprunner-demo" \
        --bind-ro="$source_root:/src" \
        </dev/null >"$work_dir/console.log" 2>&1 &
nspawn_pid=$!

deadline=$((SECONDS + BOOT_TIMEOUT))
while [[ -z $container_pid ]]; do
        container_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)
        if ! kill -0 "$nspawn_pid" 2>/dev/null; then
                cat "$work_dir/console.log"
                die "systemd-nspawn exited during boot"
        fi
        [[ $SECONDS -lt $deadline ]] || die "no systemd below systemd-nspawn (PID $nspawn_pid) after ${BOOT_TIMEOUT}s"
        [[ -n $container_pid ]] || sleep 0.1
done

state=
while [[ $SECONDS -lt $deadline ]]; do
        state=$(timeout $((deadline - SECONDS + 1)) nsenter -t "$container_pid" -a \
                systemctl is-system-running --wait 2>/dev/null || true)
        [[ $state == running || $state == degraded ]] && break
        sleep 0.2
done
case $state in
running) info "container booted (systemd PID $container_pid on the host)" ;;
degraded)
        info "container booted with failed units:"
        in_container systemctl --failed --no-legend --plain
        ;;
*)
        tail -n 50 "$work_dir/console.log"
        die "container did not boot within ${BOOT_TIMEOUT}s (state '${state:-unknown}')"
        ;;
esac

# --- 4. the sample service --------------------------------------------------

if ! in_container /bin/bash /src/demo/deploy-sample.sh "$service_name"; then
        info "deploy-sample.sh failed; apprunnerd's journal in the container:"
        in_container journalctl -b --no-pager -n 60 -u apprunnerd.service -u "apprunner-*"
        exit_status=1
        exit 1
fi

if [[ $once -eq 1 ]]; then
        exit 0
fi

shell="nsenter -t $container_pid -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=${TERM:-xterm} bash -l"
cat <<EOF

The container keeps running. Open a root shell in it from another terminal:

    $shell

and try, for example:

    apprunnerctl list-services
    systemctl status apprunner-$service_name.slice
    journalctl -u 'apprunner-$service_name@*'

Press Ctrl-C here to stop the container and remove $work_dir.
EOF

# Wait on a background sleep, because bash runs a trap only after the
# foreground command returns, and `wait` returns at once on a signal.
sleep infinity &
sleep_pid=$!
wait "$sleep_pid" || true
