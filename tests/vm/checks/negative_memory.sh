# shellcheck shell=bash
# negative_memory: the memory observation reports FAIL when the limit went to the wrong group
# timeout: 120
# A deliberately broken setup: memory.max 64 MiB is written to a sibling group, not to
# the one the workload runs in. The same observation memory_oom uses must say "not
# enforced" here, or the checks could not fail. The positive control (the observation
# on the group that does have the limit) makes sure this setup can enforce at all.
echo "+memory" >"$CG/cgroup.subtree_control" || fail "enabling memory at $CG failed"
mkdir -p "$CG/negctl"
echo "+memory" >"$CG/negctl/cgroup.subtree_control" || fail "enabling memory in $CG/negctl failed"
mkdir -p "$CG/negctl/limited.scope" "$CG/negctl/workload.scope"
echo 64M >"$CG/negctl/limited.scope/memory.max"
expect_file "$CG/negctl/workload.scope/memory.max" max

if observe_memory_limit "$CG/negctl/workload.scope" "$CG/negctl/workload.scope" 128; then
    fail "the memory observation passed on a group WITHOUT a limit: the memory check cannot fail"
fi
note "broken setup detected: the observation reported no enforcement"
observe_memory_limit "$CG/negctl/limited.scope" "$CG/negctl/limited.scope" 128 ||
    fail "positive control: the observation did not see the limit on the group that has it"
