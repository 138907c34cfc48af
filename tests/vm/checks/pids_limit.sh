# shellcheck shell=bash
# pids_limit: forks stop at the class pids.max (10) with EAGAIN
# timeout: 120
start_test_daemon
expect_file "$ROOT/pids.slice/pids.max" 10
# The forker itself is the 10th task.
observe_pids_limit "$ROOT/pids.slice/fork.scope" ||
    fail "the forker in class pids (pids.max 10) did not stop at 9 forks with EAGAIN"
# pids.events "max" counts in the forker's own group, which the daemon folds into the
# class totals (and removes) once it ends.
events=$(wait_totals "$TOTALS" pids pids_events_max 1 20) || {
    print_totals "$TOTALS"
    fail "class pids totals pids_events_max is $events after a fork hit pids.max, want >= 1"
}
note "class pids totals: pids_events_max = $events"
