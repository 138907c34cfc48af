# shellcheck shell=bash
# cpuset: a workload of a class with cpuset.cpus = "1" runs only on CPU 1
# timeout: 120
start_test_daemon
expect_file "$ROOT/cpu.slice/cpuset.cpus" 1
expect_file "$ROOT/cpu.slice/cpuset.cpus.effective" 1
out_file=/run/gov-cpuset-spinner.out
# Two threads, so that anything but a confinement would spread them over both CPUs.
run_in_bg "$ROOT/cpu.slice/spin.scope" sh -c "exec '$SPINNER' 2 2 >$out_file"
allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$BG_PID/status")
expect_eq "Cpus_allowed_list of the running workload" "$allowed" 1
wait "$BG_PID" || fail "spinner failed with status $?"
cat "$out_file"
expect_eq "spinner: sched_getaffinity" "$(sed -n 's/^affinity=//p' "$out_file")" 1
expect_eq "spinner: CPUs it ran on" "$(sed -n 's/^ran_on=//p' "$out_file")" 1
