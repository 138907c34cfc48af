# shellcheck shell=bash
# accounting: a finished workload's final counters land in its class totals and its group is removed
# timeout: 120
start_test_daemon
wait_totals "$TOTALS" batch workloads_ended 0 0 >/dev/null
ended0=$(snap_field workloads_ended)
run_in "$ROOT/batch.slice/job1.scope" "$SPINNER" 1 || fail "spinner failed with status $?"
note "spinner ran 1 s in batch.slice/job1.scope (no cpu limit)"
ended=$(wait_totals "$TOTALS" batch workloads_ended $((ended0 + 1)) 20) || {
    print_totals "$TOTALS"
    fail "batch workloads_ended is $ended, want $((ended0 + 1))"
}
note "batch workloads_ended: $ended0 -> $ended"
# 1 s of spinning on one CPU, plus the program's start.
usage=$(snap_field cpu_usage_usec)
in_range "batch cpu_usage_usec" "$usage" 800000 5000000
peak=$(snap_field memory_peak_bytes)
in_range "batch memory_peak_bytes" "$peak" 1 268435456
wait_until 10 test ! -d "$ROOT/batch.slice/job1.scope" ||
    fail "batch.slice/job1.scope was not removed after it ended"
note "batch.slice/job1.scope removed"
# Counted exactly once.
wait_totals "$TOTALS" batch workloads_ended 0 0 >/dev/null
expect_eq "batch workloads_ended after the group was removed" "$(snap_field workloads_ended)" $((ended0 + 1))
print_totals "$TOTALS"
