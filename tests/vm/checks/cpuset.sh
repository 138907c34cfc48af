# shellcheck shell=bash
# cpuset: a workload of a class with cpuset.cpus = "1" runs only on CPU 1
# timeout: 120
start_test_daemon
expect_file "$ROOT/cpu.slice/cpuset.cpus" 1
expect_file "$ROOT/cpu.slice/cpuset.cpus.effective" 1
observe_cpuset_cpu1 "$ROOT/cpu.slice/spin.scope" ||
    fail "a workload of class cpu (cpuset.cpus 1) was not confined to CPU 1"
