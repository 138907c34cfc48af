# shellcheck shell=bash
# memory_oom: over the class memory.max a workload is OOM-killed and counted; under it, it completes; in a sibling class without the limit it is not killed (negative control)
# timeout: 150
start_test_daemon
expect_file "$ROOT/mem.slice/memory.max" 67108864

observe_memory_limit "$ROOT/mem.slice" "$ROOT/mem.slice/over.scope" 128 ||
    fail "a 128 MiB allocation in class mem (memory.max 64 MiB) was not OOM-killed"
peak=$(<"$ROOT/mem.slice/memory.peak")
in_range "mem.slice memory.peak (bytes)" "$peak" 60000000 67108864

out=$(run_in "$ROOT/mem.slice/under.scope" "$ALLOC" 16 2>&1) ||
    fail "a 16 MiB allocation in class mem failed with status $?: $out"
expect_eq "under-limit allocator's last line" "$(echo "$out" | tail -n 1)" "allocated 16 MiB"

# Negative control: the same observation in io.slice, where governord wrote no
# memory limit, must not see one; otherwise the observation above could not fail.
expect_file "$ROOT/io.slice/memory.max" max
if observe_memory_limit "$ROOT/io.slice" "$ROOT/io.slice/alloc.scope" 128; then
    fail "negative control: the observation saw an OOM kill in io.slice, which has no memory limit"
fi

# The OOM kill lands in the class totals too, once the daemon has folded the group.
oom=$(wait_totals "$TOTALS" mem oom_kill 1 20) || {
    print_totals "$TOTALS"
    fail "class mem totals oom_kill is $oom after an OOM kill, want >= 1"
}
note "class mem totals: oom_kill = $oom"
