# shellcheck shell=bash
# cpu_max: cpu.max = "20%" throttles a spinner to about 20% of one CPU
# timeout: 120
start_test_daemon
expect_file "$ROOT/cpu.slice/cpu.max" "20000 100000"
stat=$ROOT/cpu.slice/cpu.stat
out=/run/gov-cpu_max-spinner.out
# Measured over a window while the spinner spins: its start (exec, dynamic loading
# over 9p) is slow under TCG and waits on I/O, which would skew a whole-run average.
run_in_bg "$ROOT/cpu.slice/quota.scope" sh -c "exec '$SPINNER' 8 >$out"
wait_until 30 file_has "$out" spinning || fail "the spinner did not start within 30 s"
nap 0.5
u0=$(stat_field "$stat" usage_usec)
n0=$(stat_field "$stat" nr_throttled)
t0=$(now_us)
nap 2.5
u1=$(stat_field "$stat" usage_usec)
n1=$(stat_field "$stat" nr_throttled)
t1=$(now_us)
note "cpu.slice usage_usec $u0 -> $u1, nr_throttled $n0 -> $n1 over $(((t1 - t0) / 1000)) ms"
in_range "nr_throttled increase" $((n1 - n0)) 10 1000000
in_range "CPU share of the spinner (CPUs)" "$(calc "($u1 - $u0) / ($t1 - $t0)")" 0.16 0.24
kill "$BG_PID"
wait "$BG_PID" 2>/dev/null || true
