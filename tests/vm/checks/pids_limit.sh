# shellcheck shell=bash
# pids_limit: forks stop at the class pids.max (10) with EAGAIN
# timeout: 120
start_test_daemon
expect_file "$ROOT/pids.slice/pids.max" 10
out=$(run_in "$ROOT/pids.slice/fork.scope" "$FORKER" 50 2>&1) || fail "forker failed: $out"
note "forker: $out"
# The forker itself is the 10th task.
expect_eq "forker result" "$(echo "$out" | tail -n 1)" "forks_ok=9 errno=EAGAIN"
# pids.events "max" counts in the forker's own group, which the daemon folds into the
# class totals (and removes) once it ends.
events=$(wait_totals "$TOTALS" pids pids_events_max 1 20) || {
    print_totals "$TOTALS"
    fail "class pids totals pids_events_max is $events after a fork hit pids.max, want >= 1"
}
note "class pids totals: pids_events_max = $events"
