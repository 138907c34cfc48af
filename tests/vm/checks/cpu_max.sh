# shellcheck shell=bash
# cpu_max: cpu.max = "20%" throttles a spinner to about 20% of one CPU
# timeout: 90
start_test_daemon
expect_file "$ROOT/cpu.slice/cpu.max" "20000 100000"
stat=$ROOT/cpu.slice/cpu.stat
u0=$(stat_field "$stat" usage_usec)
n0=$(stat_field "$stat" nr_throttled)
t0=$(now_us)
run_in "$ROOT/cpu.slice/quota.scope" "$SPINNER" 2.5 || fail "spinner failed with status $?"
t1=$(now_us)
u1=$(stat_field "$stat" usage_usec)
n1=$(stat_field "$stat" nr_throttled)
note "cpu.slice usage_usec $u0 -> $u1, nr_throttled $n0 -> $n1 over $(((t1 - t0) / 1000)) ms"
in_range "nr_throttled increase" $((n1 - n0)) 5 1000000
# The spinner's process start-up counts in the wall time too; the quota is the bound.
in_range "CPU share of the spinner (CPUs)" "$(calc "($u1 - $u0) / ($t1 - $t0)")" 0.14 0.24
