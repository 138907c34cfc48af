# shellcheck shell=bash
# negative_memory: the memory check's observation reports no enforcement when governord's memory.max is on a sibling class, not on the workload's
# timeout: 120
# The negative control of memory_oom, through governord with the test policy:
# memory.max 64 MiB is on mem.slice (written by the daemon), the workload runs in
# io.slice (no memory limit). The observation memory_oom uses must say "not
# enforced" here; if it did not, memory_oom could not fail.
start_test_daemon
expect_file "$ROOT/mem.slice/memory.max" 67108864
expect_file "$ROOT/io.slice/memory.max" max
if observe_memory_limit "$ROOT/io.slice" "$ROOT/io.slice/alloc.scope" 128; then
    fail "the memory observation saw an OOM kill in a group WITHOUT a memory limit: memory_oom cannot fail"
fi
note "negative control holds: no enforcement seen where governord wrote no limit"
