# shellcheck shell=bash
# exec_limits: workloads started with govctl exec land in a fresh group of their class and get its limits
# timeout: 240
# govctl is part of the build (vm-suite.sh refuses to run without it): a missing one
# fails here, never skips.
[ -n "$GOVCTL" ] && [ -x "$GOVCTL" ] || fail "govctl '$GOVCTL' is not built"
# Each govctl start costs seconds in the guest (an ASan build under TCG), so this
# sticks to what only a real kernel shows; tests/live/govctl covers exec itself.
start_test_daemon
gexec() { "$GOVCTL" exec --class "$@"; }

# The group: a fresh <class>.slice/<name>.scope under the daemon's root.
cg=$(gexec batch -- cat /proc/self/cgroup) || fail "govctl exec --class batch cat /proc/self/cgroup failed: $cg"
note "govctl exec --class batch: $cg"
[[ $cg =~ ^0::/gov-exec_limits/batch\.slice/[^/]+\.scope$ ]] ||
    fail "the workload ran in '$cg', not in a group of class batch under /gov-exec_limits"

observe_oom "$ROOT/mem.slice" 128 gexec mem -- ||
    fail "a 128 MiB allocation started with govctl exec in class mem (memory.max 64 MiB) was not OOM-killed"
out=$(gexec mem -- "$ALLOC" 16 2>&1) || fail "a 16 MiB allocation in class mem failed with status $?: $out"
expect_eq "under-limit allocation through govctl exec" "$(echo "$out" | tail -n 1)" "allocated 16 MiB"

out=$(gexec pids -- "$FORKER" 50 2>&1) || fail "forker through govctl exec failed: $out"
expect_eq "forker in class pids through govctl exec" "$(echo "$out" | tail -n 1)" "forks_ok=9 errno=EAGAIN"

out=$(gexec cpu -- "$SPINNER" 0.5 2 2>&1) || fail "spinner through govctl exec failed: $out"
expect_eq "spinner in class cpu: affinity" "$(echo "$out" | sed -n 's/^affinity=//p')" 1
expect_eq "spinner in class cpu: CPUs it ran on" "$(echo "$out" | sed -n 's/^ran_on=//p')" 1
