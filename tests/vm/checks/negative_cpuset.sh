# shellcheck shell=bash
# negative_cpuset: the cpuset check's observation reports no confinement when governord's cpuset.cpus is on a sibling class, not on the workload's
# timeout: 120
# The negative control of cpuset, through governord with the test policy:
# cpuset.cpus "1" is on cpu.slice, the spinner runs in mem.slice (every CPU).
start_test_daemon
expect_file "$ROOT/cpu.slice/cpuset.cpus" 1
expect_file "$ROOT/mem.slice/cpuset.cpus.effective" 0-1
if observe_cpuset_cpu1 "$ROOT/mem.slice/spin.scope"; then
    fail "the cpuset observation saw a confinement to CPU 1 in a group WITHOUT one: cpuset cannot fail"
fi
note "negative control holds: no confinement seen where governord wrote none"
