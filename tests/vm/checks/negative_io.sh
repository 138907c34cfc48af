# shellcheck shell=bash
# negative_io: the io check's observation reports no enforcement when governord's io.write_bps is on a sibling class, not on the workload's
# timeout: 120
# The negative control of io_write_limit, through governord with the test policy:
# io.max wbps=1 MiB/s is on io.slice, the writes run in mem.slice (no io limit).
start_test_daemon
dev=$(<"/sys/block/vdb/dev")
grep -qx "$dev rbps=max wbps=1048576 riops=max wiops=max" "$ROOT/io.slice/io.max" ||
    fail "io.slice/io.max is not the test policy's: $(cat "$ROOT/io.slice/io.max")"
expect_eq "mem.slice/io.max (no io limit)" "$(<"$ROOT/mem.slice/io.max")" ""
if observe_io_write_limit "$ROOT/mem.slice/dd.scope"; then
    fail "the io observation saw 1 MiB/s in a group WITHOUT an io limit: io_write_limit cannot fail"
fi
note "negative control holds: no enforcement seen where governord wrote no limit"
