# shellcheck shell=bash
# cpu_max: cpu.max = "20%" throttles a spinner to about 20% of one CPU
# timeout: 120
start_test_daemon
expect_file "$ROOT/cpu.slice/cpu.max" "20000 100000"
out=/run/gov-cpu_max-spinner.out
# Measured over a window while the spinner spins: its start (exec, dynamic loading
# over 9p) is slow under TCG and waits on I/O, which would skew a whole-run average.
run_in_bg "$ROOT/cpu.slice/quota.scope" sh -c "exec '$SPINNER' 8 >$out"
wait_until 30 file_has "$out" spinning || fail "the spinner did not start within 30 s"
nap 0.5
measure_cpu "$ROOT/cpu.slice" 2.5
in_range "nr_throttled increase" "$CPU_THROTTLED" 10 1000000
in_range "CPU per bandwidth period (quota 20000 of 100000 us)" "$CPU_PERIOD_SHARE" 0.16 0.24
# Wall-clock share: the upper bound is the limit; below the quota only when the busy
# host fires the guest's period timer late.
in_range "CPU share of wall time" "$CPU_WALL_SHARE" 0.10 0.24
kill "$BG_PID"
wait "$BG_PID" 2>/dev/null || true
