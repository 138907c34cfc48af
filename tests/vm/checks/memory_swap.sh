# shellcheck shell=bash
# memory_swap: memory.swap.max caps a class's swap (0: none, so over memory.max it is OOM-killed); memory.zswap.max = 0 keeps a class out of zswap
# timeout: 240
# The guest's third virtio disk (serial "govswap") is swap for this check only:
# with swap on, other checks' OOM kills would become swapping.
swapdev=""
for b in /sys/block/vd*; do
    [ "$(cat "$b/serial" 2>/dev/null)" = govswap ] && swapdev=/dev/${b##*/}
done
[ -n "$swapdev" ] || fail "the guest has no swap disk (a virtio disk with serial govswap)"
zswap=/sys/module/zswap/parameters/enabled
restore() {
    local rc=$?
    swapoff "$swapdev" 2>/dev/null
    [ -w "$zswap" ] && echo N >"$zswap"
    (exit "$rc")
    daemon_cleanup
}
trap restore EXIT
mkswap "$swapdev" >/dev/null || fail "mkswap $swapdev failed"
swapon "$swapdev" || fail "swapon $swapdev failed"
note "swap on $swapdev: $(tail -n +2 /proc/swaps)"

daemon_start "$ROOT" "$STATE" --policy "$GOV_VM_DIR/policies/knobs.toml" --rescan-interval 1
expect_file "$ROOT/swapnone.slice/memory.swap.max" 0
expect_file "$ROOT/swapsome.slice/memory.swap.max" 16777216
expect_file "$ROOT/zswapon.slice/memory.swap.max" max
expect_file "$ROOT/zswapoff.slice/memory.zswap.max" 0
for cls in swapnone swapsome zswapon zswapoff; do
    expect_file "$ROOT/$cls.slice/memory.max" 33554432
done

# alloc_in SCOPE MIB: the allocator's status and last line in ALLOC_RC, ALLOC_LAST.
alloc_in() {
    local out
    out=$(run_in "$1" "$ALLOC" "$2" 2>&1)
    ALLOC_RC=$?
    ALLOC_LAST=$(echo "$out" | tail -n 1)
    note "alloc $2 MiB in $1: status $ALLOC_RC, '$ALLOC_LAST'"
}

# No swap at all: 48 MiB over a 32 MiB memory.max is OOM-killed.
alloc_in "$ROOT/swapnone.slice/a.scope" 48
expect_eq "48 MiB in class swapnone (memory.swap.max 0): status" "$ALLOC_RC" 137
# 16 MiB of swap: 40 MiB fits in memory plus swap, 64 MiB does not.
alloc_in "$ROOT/swapsome.slice/a.scope" 40
expect_eq "40 MiB in class swapsome (32 MiB + 16 MiB of swap)" "$ALLOC_LAST" "allocated 40 MiB"
alloc_in "$ROOT/swapsome.slice/b.scope" 64
expect_eq "64 MiB in class swapsome (over 32 MiB + 16 MiB of swap): status" "$ALLOC_RC" 137
# The control: without a swap limit the same 64 MiB fits.
alloc_in "$ROOT/zswapon.slice/a.scope" 64
expect_eq "64 MiB in class zswapon (no swap limit)" "$ALLOC_LAST" "allocated 64 MiB"

# zswap: pages on their way to swap are kept compressed in memory, charged to the
# group (memory.zswap.current) unless its memory.zswap.max refuses them.
[ -w "$zswap" ] || fail "this kernel has no zswap ($zswap)"
echo Y >"$zswap" || fail "enabling zswap failed"
note "zswap enabled: compressor $(cat /sys/module/zswap/parameters/compressor), pool $(cat /sys/module/zswap/parameters/zpool)"
# held SCOPE: 48 MiB held in SCOPE (16 MiB over memory.max must leave memory);
# sets HELD_ZSWAP and HELD_SWAP from the group's zswap.current and swap.current.
held() {
    run_in_bg "$1" "$ALLOC" 48 hold >/run/held.out
    local pid=$BG_PID
    wait_until 60 file_has /run/held.out "allocated 48 MiB" ||
        fail "48 MiB were not allocated in $1: $(cat /run/held.out)"
    HELD_ZSWAP=$(<"$1/memory.zswap.current")
    HELD_SWAP=$(<"$1/memory.swap.current")
    note "$1 holding 48 MiB: memory.current $(<"$1/memory.current"), memory.swap.current $HELD_SWAP, memory.zswap.current $HELD_ZSWAP"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
}
held "$ROOT/zswapon.slice/z.scope"
[ "$HELD_ZSWAP" -gt 0 ] || fail "class zswapon (no zswap limit) put nothing into zswap"
held "$ROOT/zswapoff.slice/z.scope"
expect_eq "memory.zswap.current of class zswapoff (memory.zswap.max 0)" "$HELD_ZSWAP" 0
[ "$HELD_SWAP" -gt 0 ] || fail "class zswapoff swapped nothing: the 16 MiB over memory.max went nowhere"
