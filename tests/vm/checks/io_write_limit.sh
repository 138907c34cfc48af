# shellcheck shell=bash
# io_write_limit: direct writes to a virtio disk run at the class io.write_bps (1 MiB/s) within 15%
# timeout: 150
start_test_daemon
dev=$(<"/sys/block/vdb/dev")
want_line="$dev rbps=max wbps=1048576 riops=max wiops=max"
grep -qx "$want_line" "$ROOT/io.slice/io.max" ||
    fail "io.slice/io.max has no line '$want_line': $(cat "$ROOT/io.slice/io.max")"
note "io.slice/io.max has '$want_line'"

# Control: without a limit the same writes are much faster, so the rate below is the
# limit's doing and not the disk's.
free=$(dd_rate "$CG/gov-io-free.scope" 8)
in_range "unlimited direct write rate (MiB/s)" "$free" 2 100000

observe_io_write_limit "$ROOT/io.slice/dd.scope" ||
    fail "direct writes in class io ran at $IO_RATE MiB/s, not at its 1 MiB/s io.write_bps"
