# shellcheck shell=bash
# io_write_limit: direct writes to a virtio disk run at the class io.write_bps (1 MiB/s) within 15%; in a sibling class without the limit they do not (negative control)
# timeout: 150
start_test_daemon
dev=$(<"/sys/block/vdb/dev")
want_line="$dev rbps=max wbps=1048576 riops=max wiops=max"
grep -qx "$want_line" "$ROOT/io.slice/io.max" ||
    fail "io.slice/io.max has no line '$want_line': $(cat "$ROOT/io.slice/io.max")"
note "io.slice/io.max has '$want_line'"

# Negative control, and the disk's own speed: the same writes from mem.slice, where
# governord wrote no io limit, are not held to 1 MiB/s and are much faster, so the
# rate below is the limit's doing and not the disk's.
expect_eq "mem.slice/io.max (no io limit)" "$(<"$ROOT/mem.slice/io.max")" ""
if observe_io_write_limit "$ROOT/mem.slice/free.scope"; then
    fail "negative control: writes from mem.slice, which has no io limit, ran at the 1 MiB/s limit"
fi
in_range "unlimited direct write rate (MiB/s)" "$IO_RATE" 2 100000

observe_io_write_limit "$ROOT/io.slice/dd.scope" ||
    fail "direct writes in class io ran at $IO_RATE MiB/s, not at its 1 MiB/s io.write_bps"
