# shellcheck shell=bash
# cpuset: a workload of a class with cpuset.cpus = "1" runs only on CPU 1; in a sibling class without it, not (negative control)
# timeout: 120
start_test_daemon
expect_file "$ROOT/cpu.slice/cpuset.cpus" 1
expect_file "$ROOT/cpu.slice/cpuset.cpus.effective" 1
observe_cpuset_cpu1 "$ROOT/cpu.slice/spin.scope" ||
    fail "a workload of class cpu (cpuset.cpus 1) was not confined to CPU 1"
# Negative control: mem.slice has every CPU.
expect_file "$ROOT/mem.slice/cpuset.cpus.effective" 0-1
if observe_cpuset_cpu1 "$ROOT/mem.slice/spin.scope"; then
    fail "negative control: a workload in mem.slice, which has no cpuset, was confined to CPU 1"
fi
