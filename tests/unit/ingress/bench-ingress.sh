#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Measures the cost of the ingress: runs wrk for DURATION seconds (default
# 10) against one busybox httpd backend directly, then through HAProxy with
# the configuration the driver writes, and prints requests/s and p99
# latency of both and their ratios.
#
# NOTE: busybox httpd forks per connection, closes it after each response
# and listens with a backlog of 9 (see `ss -ltn`). Through HAProxy every
# request opens a new backend connection, so listen overflows and the 1 s
# SYN retransmit dominate the p99 figure at this concurrency.
#
# Usage: bench-ingress.sh TEST_INGRESS_BINARY [DURATION]
# Needs wrk, busybox (busybox-static) and /usr/sbin/haproxy.

set -eu

test_binary=${1:?usage: bench-ingress.sh TEST_INGRESS_BINARY [DURATION]}
duration=${2:-10}
threads=2
connections=32

for tool in wrk busybox /usr/sbin/haproxy; do
        if ! command -v "$tool" >/dev/null; then
                echo "$tool is missing, skipping." >&2
                exit 77
        fi
done

work=$(mktemp -d /tmp/bench-ingress-XXXXXX)
pids=()
cleanup() {
        for pid in "${pids[@]}"; do
                kill "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$work"
}
trap cleanup EXIT

free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
        for _ in $(seq 100); do
                if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
                        return 0
                fi
                sleep 0.05
        done
        echo "Nothing listens on 127.0.0.1:$1." >&2
        exit 1
}

# Prints "<requests/s> <p99 in ms>" for one wrk run.
run_wrk() {
        local out rps p99
        out=$(wrk -t "$threads" -c "$connections" -d "${duration}s" --latency "$@")
        rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
        p99=$(awk '$1 == "99%" {
                v = $2
                if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 }
                else if (v ~ /ms$/) { sub(/ms$/, "", v) }
                else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }
                printf "%.2f", v }' <<<"$out")
        errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
        if [ -n "$errors" ]; then
                echo "wrk reported: $errors" >&2
        fi
        echo "$rps $p99"
}

mkdir -p "$work/www" "$work/run"
printf 'hello from the backend\n' >"$work/www/index.html"

backend_port=$(free_port)
busybox httpd -f -p "127.0.0.1:$backend_port" -h "$work/www" &
pids+=($!)
wait_port "$backend_port"

listen_port=$(free_port)
host=$("$test_binary" --write-bench-config "$work/run" "$listen_port" "$backend_port")
haproxy -W -S "$work/run/master.sock" -f "$work/run/haproxy.cfg" >/dev/null 2>&1 &
pids+=($!)
wait_port "$listen_port"

read -r direct_rps direct_p99 < <(run_wrk "http://127.0.0.1:$backend_port/")
read -r proxy_rps proxy_p99 < <(run_wrk -H "Host: $host" "http://127.0.0.1:$listen_port/")

printf 'wrk %s threads, %s connections, %s s each, %s CPUs\n' "$threads" "$connections" "$duration" "$(nproc)"
printf '%-16s %12s %10s\n' "" "requests/s" "p99 ms"
printf '%-16s %12s %10s\n' "direct" "$direct_rps" "$direct_p99"
printf '%-16s %12s %10s\n' "through HAProxy" "$proxy_rps" "$proxy_p99"
awk -v a="$proxy_rps" -v b="$direct_rps" -v c="$proxy_p99" -v d="$direct_p99" \
        'BEGIN { printf "ratio proxy/direct: requests/s %.2f, p99 %.2f\n", a / b, c / d }'
