#!/bin/bash
# payload.sh RESULTS: run inside the guest (chrooted into the host's / shared
# read-only) by guest/init. Runs every check of $GOV_CHECKS (from RESULTS/config.sh,
# written by vm-suite.sh) in its own bash under `timeout`, writes RESULTS/NAME.log
# (everything the check printed) and RESULTS/NAME.result (first line "PASS",
# "FAIL: why" or "SKIP: why"), prints one line per check on the console, cleans up
# the cgroups a check left behind, and finally writes RESULTS/suite.done.
#
# A check is tests/vm/checks/NAME.sh, sourced after guest/lib.sh; it exits 0 for
# PASS, 77 for SKIP (after printing "SKIP: why") and anything else for FAIL
# (lib.sh's fail prints "FAIL: why"). A line "# timeout: N" in it sets its time
# limit in seconds (default 90).
set -u
results=$1
# shellcheck source=/dev/null
. "$results/config.sh"
export GOV_CHECK GOV_SRC GOV_VM_DIR GOV_RESULTS GOV_HELPERS GOVERNORD GOVCTL GOV_NET_LIVE_TEST ASAN_OPTIONS UBSAN_OPTIONS

GOV_CHECK=""
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# Kill whatever a check left in any group below the root and remove those groups
# (deepest first), so that one failed check cannot disturb the next. The payload
# itself lives in the root group and is never touched.
cleanup_cgroups() {
    local d ev i
    for d in /sys/fs/cgroup/*/; do
        [ -f "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
    done
    for i in {1..50}; do
        ev=$(cat /sys/fs/cgroup/*/cgroup.events 2>/dev/null)
        [[ $ev == *"populated 1"* ]] || break
        read -r -t 0.1 _ <> <(:)
    done
    [[ $ev == *"populated 1"* ]] && echo "GOV-VM cleanup: groups still populated after cgroup.kill"
    find /sys/fs/cgroup -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
    # Back to the state of a fresh boot: no controller enabled at the top, so that
    # every check sees whether governord enables what it needs in the ancestors.
    local c off=""
    for c in $(</sys/fs/cgroup/cgroup.subtree_control); do off="$off -$c"; done
    [ -z "$off" ] || echo "$off" >/sys/fs/cgroup/cgroup.subtree_control ||
        echo "GOV-VM cleanup: could not disable$off at /sys/fs/cgroup"
    # State directories belong to the check that made them.
    rm -rf /run/gov-* 2>/dev/null
}

# A private D-Bus bus stands in for the system bus (the guest runs no system
# services): governord connects to "the system bus" by default, and sd-bus (in
# governord and govctl alike) honours DBUS_SYSTEM_BUS_ADDRESS. The session
# configuration lets root own org.governor.Governor1 without a policy file.
GOV_BUS_DIR=/run/dbus-test
mkdir -p "$GOV_BUS_DIR"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$GOV_BUS_DIR/system_bus_socket
if command -v dbus-daemon >/dev/null; then
    dbus-daemon --config-file=/usr/share/dbus-1/session.conf --address="$DBUS_SYSTEM_BUS_ADDRESS" \
        --fork --nopidfile --print-address=1 >"$GOV_BUS_DIR/address" ||
        echo "GOV-VM WARNING: dbus-daemon did not start; governord cannot own its bus name"
else
    echo "GOV-VM WARNING: no dbus-daemon (Debian package dbus); governord cannot own its bus name"
fi

echo "GOV-VM kernel $(uname -r), $(nproc) CPUs, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
for c in $GOV_CHECKS; do
    file=$GOV_VM_DIR/checks/$c.sh
    limit=$(sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' "$file" | head -n 1)
    limit=${limit:-90}
    t0=$(uptime_s)
    {
        echo "== check $c ($(sed -n '2s/^# *//p' "$file")), time limit ${limit}s, kernel $(uname -r)"
    } >"$results/$c.log"
    # timeout signals its whole process group: the check, the daemons and the
    # workloads it started.
    GOV_CHECK=$c timeout -k 5 "$limit" bash -c '. "$GOV_VM_DIR/guest/lib.sh" && . "$1"' "check-$c" "$file" \
        >>"$results/$c.log" 2>&1 </dev/null
    rc=$?
    case $rc in
        0) verdict="PASS" ;;
        77) verdict=$(grep -m1 '^SKIP:' "$results/$c.log" || echo "SKIP: (no reason printed)") ;;
        124 | 137) verdict="FAIL: timed out after ${limit}s" ;;
        *)
            verdict=$(grep '^FAIL:' "$results/$c.log" | tail -n 1)
            verdict=${verdict:-"FAIL: the check exited with status $rc"}
            ;;
    esac
    t1=$(uptime_s)
    dur=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    echo "== $verdict (exit $rc, ${dur}s)" >>"$results/$c.log"
    printf '%s\n' "$verdict" >"$results/$c.result"
    echo "GOV-VM check $c: $verdict (${dur}s)"
    t2=$(uptime_s)
    cleanup_cgroups
    echo "GOV-VM cleanup after $c took $(awk -v a="$t2" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }')s"
done
echo "GOV-VM all checks done at $(uptime_s) s"
sync
date >"$results/suite.done"
