# shellcheck shell=bash
# negative_pids: the pids check's observation reports no enforcement when governord's pids.max is on a sibling class, not on the workload's
# timeout: 120
# The negative control of pids_limit, through governord with the test policy:
# pids.max 10 is on pids.slice, the forker runs in mem.slice (no pids limit).
start_test_daemon
expect_file "$ROOT/pids.slice/pids.max" 10
expect_file "$ROOT/mem.slice/pids.max" max
if observe_pids_limit "$ROOT/mem.slice/fork.scope"; then
    fail "the pids observation saw pids.max 10 in a group WITHOUT a pids limit: pids_limit cannot fail"
fi
note "negative control holds: no enforcement seen where governord wrote no limit"
