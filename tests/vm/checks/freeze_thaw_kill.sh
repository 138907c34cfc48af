# shellcheck shell=bash
# freeze_thaw_kill: freeze, thaw and kill of a workload group through govctl and the daemon's control API
# timeout: 240
# Through govctl, the way an operator does it: a govctl that is missing or fails
# fails the check (no other client stands in for it).
[ -n "$GOVCTL" ] && [ -x "$GOVCTL" ] || fail "govctl '$GOVCTL' is not built"

# control VERB TARGET: govctl VERB (freeze, thaw, kill) TARGET (a class or a workload
# group relative to the root); fails the check when it fails.
control() {
    local out
    note "govctl $1 $2"
    out=$("$GOVCTL" "$1" "$2" 2>&1) || fail "govctl $1 $2 failed: $out"
}

# usage_over SECONDS GROUPDIR: cpu usage_usec of GROUPDIR gained over SECONDS.
usage_over() {
    local u0 u1
    u0=$(stat_field "$2/cpu.stat" usage_usec)
    nap "$1"
    u1=$(stat_field "$2/cpu.stat" usage_usec)
    echo $((u1 - u0))
}

start_test_daemon
wait_totals "$TOTALS" batch workloads_ended 0 0 >/dev/null
ended0=$(snap_field workloads_ended)
group=batch.slice/victim.scope
dir=$ROOT/$group
run_in_bg "$dir" "$SPINNER" 300
pid=$BG_PID
wait_tracked "$group"

control freeze "$group"
wait_until 10 file_has "$dir/cgroup.events" "frozen 1" || fail "$dir is not frozen 10 s after freeze"
note "$group: frozen 1"
used=$(usage_over 1 "$dir")
in_range "cpu used by the frozen spinner in 1 s (usec)" "$used" 0 10000
kill -0 "$pid" 2>/dev/null || fail "the frozen workload died"

control thaw "$group"
wait_until 10 file_has "$dir/cgroup.events" "frozen 0" || fail "$dir is still frozen 10 s after thaw"
used=$(usage_over 1 "$dir")
in_range "cpu used by the thawed spinner in 1 s (usec)" "$used" 300000 2100000

control kill "$group"
wait "$pid"
rc=$?
expect_eq "exit status of the killed workload" "$rc" 137
ended=$(wait_totals "$TOTALS" batch workloads_ended $((ended0 + 1)) 20) || {
    print_totals "$TOTALS"
    fail "batch workloads_ended is $ended after the kill, want $((ended0 + 1))"
}
note "batch workloads_ended: $ended0 -> $ended (the killed group was accounted)"
wait_until 10 test ! -d "$dir" || fail "$dir was not removed after the kill"
note "$group removed"
