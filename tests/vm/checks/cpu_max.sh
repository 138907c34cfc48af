# shellcheck shell=bash
# cpu_max: cpu.max = "20%" throttles a spinner to about 20% of one CPU; in a sibling class without it, not (negative control)
# timeout: 150
start_test_daemon
expect_file "$ROOT/cpu.slice/cpu.max" "20000 100000"
observe_cpu_max_20 "$ROOT/cpu.slice" quota.scope ||
    fail "a spinner in class cpu (cpu.max 20%) was not held to 20% of a CPU per period"
in_range "nr_throttled increase" "$CPU_THROTTLED" 10 1000000
in_range "CPU per bandwidth period (quota 20000 of 100000 us)" "$CPU_PERIOD_SHARE" 0.16 0.24
# Wall-clock share: the upper bound is the limit; below the quota only when the busy
# host fires the guest's period timer late.
in_range "CPU share of wall time" "$CPU_WALL_SHARE" 0.10 0.24
# Negative control: mem.slice has no cpu limit.
expect_file "$ROOT/mem.slice/cpu.max" "max 100000"
if observe_cpu_max_20 "$ROOT/mem.slice" quota.scope; then
    fail "negative control: a spinner in mem.slice, which has no cpu limit, was held to 20%"
fi
