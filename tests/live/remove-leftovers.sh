#!/usr/bin/env bash
# remove-leftovers.sh TREES_DIR: the cleanup of the live tier (ctest FIXTURES_CLEANUP
# "live-trees", run after every live test whatever its outcome). Each file in
# TREES_DIR records what one live test process created (tests/support/TestTree.hpp):
#   pid PID            the test process
#   cgroup PATH        its cgroup subtree (under the cgroup2 mount, named gov-*)
#   dir PATH           a temp folder (named gov-*)
# A record whose process still runs is left alone. For the others (the test was
# killed at its TIMEOUT or crashed before its teardown): every process in the
# subtree is ended (thaw, cgroup.kill, until "populated 0"), its groups are removed
# bottom-up, the folders are removed, and the record with them. Each removal is
# printed, so a leak is seen. Exits 1 when something recorded could not be removed.
set -uo pipefail
dir=$1
[ -d "$dir" ] || { echo "no leftovers: nothing recorded in $dir"; exit 0; }
rc=0 found=0

remove_cgroup() {
    local root=$1 d i
    case $root in
        */gov-*) ;;
        *) echo "refusing to touch $root (not a gov-* test subtree)"; return 1 ;;
    esac
    [ -d "$root" ] || return 0
    [ -f "$root/cgroup.procs" ] || { echo "refusing to touch $root (not a cgroup)"; return 1; }
    for i in $(seq 100); do
        grep -q '^populated 1' "$root/cgroup.events" 2>/dev/null || break
        echo 0 >"$root/cgroup.freeze" 2>/dev/null
        echo 1 >"$root/cgroup.kill" 2>/dev/null
        read -r -t 0.05 _ <> <(:) || true
    done
    if grep -q '^populated 1' "$root/cgroup.events" 2>/dev/null; then
        echo "could not empty $root: $(cat "$root/cgroup.procs" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    find "$root" -depth -type d -exec rmdir {} \; 2>/dev/null
    [ ! -d "$root" ] || { echo "could not remove $root"; return 1; }
}

for record in "$dir"/*; do
    [ -f "$record" ] || continue
    pid=$(sed -n 's/^pid //p' "$record")
    if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
        echo "$(basename "$record"): its test process $pid still runs; left alone"
        continue
    fi
    found=$((found + 1))
    ok=1
    while read -r kind path; do
        case $kind in
            cgroup)
                if [ -d "$path" ]; then
                    echo "removing leftover cgroup subtree $path (test process $pid is gone)"
                    remove_cgroup "$path" || ok=0
                fi
                ;;
            dir)
                case $path in
                    */gov-*)
                        if [ -e "$path" ]; then
                            echo "removing leftover folder $path"
                            rm -rf -- "$path" || ok=0
                        fi
                        ;;
                    *) echo "refusing to remove $path (not a gov-* folder)"; ok=0 ;;
                esac
                ;;
        esac
    done <"$record"
    if [ "$ok" -eq 1 ]; then
        rm -f "$record"
    else
        rc=1
    fi
done
[ "$found" -eq 0 ] && echo "no leftovers from live tests"
exit "$rc"
