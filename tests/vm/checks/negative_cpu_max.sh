# shellcheck shell=bash
# negative_cpu_max: the cpu.max check's observation reports no throttling when governord's cpu.max is on a sibling class, not on the workload's
# timeout: 120
# The negative control of cpu_max, through governord with the test policy:
# cpu.max 20% is on cpu.slice, the spinner runs in mem.slice (no cpu limit).
start_test_daemon
expect_file "$ROOT/cpu.slice/cpu.max" "20000 100000"
expect_file "$ROOT/mem.slice/cpu.max" "max 100000"
if observe_cpu_max_20 "$ROOT/mem.slice" quota.scope; then
    fail "the cpu.max observation saw 20% in a group WITHOUT a cpu limit: cpu_max cannot fail"
fi
note "negative control holds: no throttling seen where governord wrote no limit"
