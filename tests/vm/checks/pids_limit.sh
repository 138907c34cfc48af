# shellcheck shell=bash
# pids_limit: forks stop at the class pids.max (10) with EAGAIN; in a sibling class without the limit they do not (negative control)
# timeout: 120
start_test_daemon
expect_file "$ROOT/pids.slice/pids.max" 10
# The forker itself is the 10th task.
observe_pids_limit "$ROOT/pids.slice/fork.scope" ||
    fail "the forker in class pids (pids.max 10) did not stop at 9 forks with EAGAIN"
# Negative control: in mem.slice governord wrote no pids limit.
expect_file "$ROOT/mem.slice/pids.max" max
if observe_pids_limit "$ROOT/mem.slice/fork.scope"; then
    fail "negative control: the forker in mem.slice, which has no pids limit, stopped at 9 forks"
fi
# pids.events "max" counts in the forker's own group, which the daemon folds into the
# class totals (and removes) once it ends.
events=$(wait_totals "$TOTALS" pids pids_events_max 1 20) || {
    print_totals "$TOTALS"
    fail "class pids totals pids_events_max is $events after a fork hit pids.max, want >= 1"
}
note "class pids totals: pids_events_max = $events"
