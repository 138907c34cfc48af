# shellcheck shell=bash
# default_policy: with no policy, governord writes the built-in default limits
# timeout: 120
root=$CG/governor
daemon_start "$root" /run/gov-default_policy/state

file_has "$root/governord/cgroup.procs" "$GOVD_PID" ||
    fail "governord (pid $GOVD_PID) is not in $root/governord: $(cat "$root/governord/cgroup.procs")"
note "governord moved itself into $root/governord"
# The guest boots with no controller enabled anywhere: governord must enable them in
# the ancestors of its root (here the cgroup2 mount) and in its root.
for d in "$CG" "$root"; do
    for c in cpu io memory pids; do
        [[ " $(<"$d/cgroup.subtree_control") " == *" $c "* ]] ||
            fail "controller $c is not enabled in $d/cgroup.subtree_control: '$(<"$d/cgroup.subtree_control")'"
    done
done
note "cpu io memory pids enabled in $CG and $root"

expect_file "$root/noncore.slice/memory.max" 1073741824
disks=$(whole_disks)
[ "$(echo "$disks" | wc -l)" -ge 2 ] || fail "the guest should have at least 2 whole disks, has: $disks"
want_io=$(for d in $disks; do echo "$d rbps=max wbps=1000000 riops=max wiops=max"; done)
got_io=$(sort -t: -k1,1n -k2,2n "$root/noncore.slice/io.max")
expect_eq "noncore.slice/io.max (one line per whole disk)" "$got_io" "$want_io"

expect_file "$root/adhoc.slice/memory.max" 2147483648
expect_file "$root/adhoc.slice/pids.max" 1000

expect_file "$root/core.slice/memory.max" max
expect_file "$root/core.slice/pids.max" max
expect_eq "core.slice/io.max" "$(<"$root/core.slice/io.max")" ""
expect_file "$root/core.slice/cpu.max" "max 100000"
