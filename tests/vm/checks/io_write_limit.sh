# shellcheck shell=bash
# io_write_limit: direct writes to a virtio disk run at the class io.write_bps (1 MiB/s) within 15%
# timeout: 150
start_test_daemon
dev=$(<"/sys/block/vdb/dev")
want_line="$dev rbps=max wbps=1048576 riops=max wiops=max"
grep -qx "$want_line" "$ROOT/io.slice/io.max" ||
    fail "io.slice/io.max has no line '$want_line': $(cat "$ROOT/io.slice/io.max")"
note "io.slice/io.max has '$want_line'"

# dd_rate GROUP MIB: writes MIB MiB with O_DIRECT to /dev/vdb from GROUP; prints MiB/s
# from dd's own byte count and elapsed time.
dd_rate() {
    local out
    # 256 KiB writes: few enough that a busy host's latency per write does not show.
    out=$(run_in "$1" dd if=/dev/zero of=/dev/vdb bs=256K count=$(($2 * 4)) oflag=direct 2>&1) ||
        fail "dd in $1 failed: $out"
    echo "$out" | tail -n 1 >&2
    echo "$out" | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1);
                                   print $1 / 1048576 / t }'
}

# Control: without a limit the same writes are much faster, so the rate below is the
# limit's doing and not the disk's.
free=$(dd_rate "$CG/gov-io-free.scope" 8)
in_range "unlimited direct write rate (MiB/s)" "$free" 2 100000

rate=$(dd_rate "$ROOT/io.slice/dd.scope" 5)
in_range "direct write rate in class io (MiB/s)" "$rate" 0.85 1.15
