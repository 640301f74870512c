#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run every check the project has, in this order, and print a summary table:
#
#   gcc          meson setup + build + test in build/ (prefix /usr, as a
#                package installs it, because the integration tests install
#                this build)
#   asan         gcc with -Db_sanitize=address,undefined in build-asan/,
#                meson test with leak detection
#   clang-werror clang with -Dwerror=true in build-clang/
#   fuzz         clang with -Dfuzz=true in build-fuzz/, then each fuzz-*
#                executable for FUZZ_SECONDS
#   format       clang-format --dry-run --Werror over daemon/ tools/ tests/
#   integration  tests/integration/run.sh build (needs root)
#   vm           tests/vm/run.sh build (needs root): boots Debian 12 in
#                qemu with the build installed and checks that the kernel
#                enforces instances' CPU and memory limits. The first run
#                downloads a kernel and packages into VM_CACHE_DIR
#                (default /var/cache/apprunner-vm).
#
# A failing step does not stop later steps, except that a step whose build
# failed skips its tests. Exits 1 if any step failed. Each step's output is
# in $LOG_DIR/<step>.log, and the last 40 lines of a failed step's log are
# printed. Set STEPS to a space-separated subset to run only those steps.
#
# Environment: FUZZ_SECONDS (default 20), LOG_DIR (default out/run-all),
# STEPS (default: all of the above).

set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
LOG_DIR=${LOG_DIR:-out/run-all}
STEPS=${STEPS:-gcc asan clang-werror fuzz format integration vm}
JOBS=$(nproc)

mkdir -p "$LOG_DIR"
LOG_DIR=$(cd "$LOG_DIR" && pwd)

step_names=()
step_results=()
step_seconds=()
any_failed=0

# setup_build DIR [MESON_OPTION...]
# Configures DIR, or reconfigures it with the given options if it exists.
# The compiler of an existing build directory stays what it was set up
# with, so CC applies only to a new one.
setup_build() {
        local dir=$1
        shift
        if [[ -f $dir/build.ninja ]]; then
                meson setup --reconfigure "$dir" "$@"
        else
                meson setup "$dir" "$@"
        fi
}

# run_step NAME COMMAND [ARG...]
# Runs COMMAND with its output in $LOG_DIR/NAME.log and records the result.
run_step() {
        local name=$1
        shift
        local start=$SECONDS status=0

        echo "=== $name: $*"
        "$@" >"$LOG_DIR/$name.log" 2>&1 || status=$?

        step_names+=("$name")
        step_seconds+=($((SECONDS - start)))
        if [[ $status -eq 0 ]]; then
                step_results+=(PASS)
        else
                step_results+=("FAIL ($status)")
                any_failed=1
                echo "--- last 40 lines of $LOG_DIR/$name.log"
                tail -n 40 "$LOG_DIR/$name.log"
        fi
        return "$status"
}

skip_step() {
        step_names+=("$1")
        step_results+=("SKIP ($2)")
        step_seconds+=(0)
        echo "=== $1: skipped, $2"
}

step_selected() {
        [[ " $STEPS " == *" $1 "* ]]
}

build_gcc() {
        CC=gcc setup_build build --prefix=/usr &&
                ninja -C build
}

build_asan() {
        CC=gcc setup_build build-asan -Db_sanitize=address,undefined &&
                ninja -C build-asan
}

test_asan() {
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                meson test -C build-asan --print-errorlogs
}

build_clang_werror() {
        CC=clang setup_build build-clang -Dwerror=true && ninja -C build-clang
}

build_fuzz() {
        # b_lundef=false: clang's sanitizer runtimes are linked only into
        # executables, so shared objects have undefined sanitizer symbols.
        CC=clang setup_build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false &&
                ninja -C build-fuzz
}

# run_fuzz_targets
# Runs every fuzz-* executable in build-fuzz/ for FUZZ_SECONDS with a fresh
# corpus directory. A target with a seed directory tests/unit/*/corpus/NAME/
# starts from it. Fails if any target finds a crash, leak or timeout.
run_fuzz_targets() {
        local target name corpus seeds status=0
        while read -r target; do
                name=${target##*/}
                corpus=$(mktemp -d)
                seeds=()
                for dir in tests/unit/*/corpus/"$name"; do
                        [[ -d $dir ]] && seeds+=("$dir")
                done
                echo "--- $name (${FUZZ_SECONDS}s)"
                ASAN_OPTIONS=detect_leaks=1 "$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 \
                        -rss_limit_mb=2048 -print_final_stats=1 \
                        -artifact_prefix="$LOG_DIR/$name-" "$corpus" "${seeds[@]}" || status=1
                rm -rf "$corpus"
        done < <(find build-fuzz -type f -executable -name 'fuzz-*' | sort)
        return "$status"
}

list_fuzz_targets() {
        find build-fuzz -type f -executable -name 'fuzz-*' 2>/dev/null
}

check_format() {
        local files
        mapfile -t files < <(find daemon tools tests -type f -name '*.[ch]' | sort)
        if [[ ${#files[@]} -eq 0 ]]; then
                echo "no C files found"
                return 0
        fi
        echo "checking ${#files[@]} files"
        clang-format --dry-run --Werror "${files[@]}"
}

total_start=$SECONDS

if step_selected gcc; then
        if run_step gcc-build build_gcc; then
                run_step gcc-test meson test -C build --print-errorlogs --num-processes "$JOBS"
        else
                skip_step gcc-test "build failed"
        fi
fi

if step_selected asan; then
        if run_step asan-build build_asan; then
                run_step asan-test test_asan
        else
                skip_step asan-test "build failed"
        fi
fi

if step_selected clang-werror; then
        run_step clang-werror build_clang_werror
fi

if step_selected fuzz; then
        if run_step fuzz-build build_fuzz; then
                if [[ -n $(list_fuzz_targets) ]]; then
                        run_step fuzz-run run_fuzz_targets
                else
                        skip_step fuzz-run "no fuzz-* targets"
                fi
        else
                skip_step fuzz-run "build failed"
        fi
fi

if step_selected format; then
        run_step format check_format
fi

if step_selected integration; then
        if ! step_selected gcc && [[ ! -f build/build.ninja ]]; then
                skip_step integration "no build/"
                any_failed=1
        elif step_selected gcc && [[ ${step_results[0]} != PASS ]]; then
                skip_step integration "gcc-build failed"
        else
                run_step integration tests/integration/run.sh build
        fi
fi

if step_selected vm; then
        if ! step_selected gcc && [[ ! -f build/build.ninja ]]; then
                skip_step vm "no build/"
                any_failed=1
        elif step_selected gcc && [[ ${step_results[0]} != PASS ]]; then
                skip_step vm "gcc-build failed"
        else
                run_step vm tests/vm/run.sh build
        fi
fi

echo
printf '%-14s %-40s %8s\n' STEP RESULT SECONDS
for i in "${!step_names[@]}"; do
        printf '%-14s %-40s %8s\n' "${step_names[i]}" "${step_results[i]}" "${step_seconds[i]}"
done
printf '%-14s %-40s %8s\n' total "$([[ $any_failed -eq 0 ]] && echo PASS || echo FAIL)" $((SECONDS - total_start))
echo "logs: $LOG_DIR"

exit "$any_failed"
