# shellcheck shell=bash
# accounting: a finished workload's final counters land in its class totals and its group is removed
# timeout: 90
start_test_daemon
ended0=$(wait_totals "$TOTALS" acct workloads_ended 0 0) || ended0=0
[ "$ended0" = none ] && ended0=0
run_in "$ROOT/acct.slice/job1.scope" "$SPINNER" 1 || fail "spinner failed with status $?"
note "spinner ran 1 s in acct.slice/job1.scope (cpu.max 10%)"
ended=$(wait_totals "$TOTALS" acct workloads_ended $((ended0 + 1)) 20) || {
    print_totals "$TOTALS"
    fail "acct workloads_ended is $ended, want $((ended0 + 1))"
}
note "acct workloads_ended: $ended0 -> $ended"
usage=$(wait_totals "$TOTALS" acct cpu_usage_usec 50000 1) || {
    print_totals "$TOTALS"
    fail "acct cpu_usage_usec is $usage, want >= 50000 (1 s of spinning at 10%)"
}
note "acct cpu_usage_usec = $usage"
peak=$(wait_totals "$TOTALS" acct memory_peak_bytes 1 1) || fail "acct memory_peak_bytes is $peak, want > 0"
note "acct memory_peak_bytes = $peak"
wait_until 10 test ! -d "$ROOT/acct.slice/job1.scope" ||
    fail "acct.slice/job1.scope was not removed after it ended"
note "acct.slice/job1.scope removed"
print_totals "$TOTALS"
