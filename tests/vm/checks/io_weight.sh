# shellcheck shell=bash
# io_weight: two classes reading one disk, io.weight 400 against 100: about four times the share once io.cost is on for the disk; without io.cost the weights do nothing
# timeout: 240
# The measurement behind docs/policy.md "Proportional IO: io.weight". io.weight is
# honoured by the kernel's io.cost controller only (BFQ has its own io.bfq.weight;
# mq-deadline and none have no weights), and io.cost runs on a disk only once
# io.cost.qos enables it there, with a cost model (io.cost.model) that says what
# the disk can do; both are files of the hierarchy's root, the host's to set.
daemon_start "$ROOT" "$STATE" --policy "$GOV_VM_DIR/policies/knobs.toml" --rescan-interval 1
expect_file "$ROOT/iolight.slice/io.weight" "default 100"
expect_file "$ROOT/ioheavy.slice/io.weight" "default 400"

# The 512 MiB disk (serial govswap, no swap on it in this check): big enough that a
# reader never reaches its end during a window.
disk=""
for b in /sys/block/vd*; do
    [ "$(cat "$b/serial" 2>/dev/null)" = govswap ] && disk=${b##*/}
done
[ -n "$disk" ] || fail "the guest has no 512 MiB disk (a virtio disk with serial govswap)"
dev=$(<"/sys/block/$disk/dev")
note "disk /dev/$disk ($dev), scheduler: $(<"/sys/block/$disk/queue/scheduler")"
qos=$CG/io.cost.qos
model=$CG/io.cost.model
restore() {
    local rc=$?
    echo "$dev enable=0" >"$qos" 2>/dev/null
    (exit "$rc")
    daemon_cleanup
}
trap restore EXIT

# rbytes GROUPDIR: bytes read from the disk by GROUPDIR (io.stat).
rbytes() {
    local majmin rest kv
    [ -e "$1/io.stat" ] || fail "$1 is gone: its reader ended early"
    while read -r majmin rest; do
        [ "$majmin" = "$dev" ] || continue
        for kv in $rest; do
            [ "${kv%%=*}" = rbytes ] && echo "${kv#*=}" && return
        done
    done <"$1/io.stat"
    echo 0
}
# reader GROUPDIR: O_DIRECT reads of the whole disk, again and again, in GROUPDIR, in
# the background: one pass can end inside a window when QEMU serves the image from
# the host's page cache. stop_readers GROUPDIR... ends them with cgroup.kill.
reader() {
    run_in_bg "$1" sh -c 'while :; do dd "if=$0" of=/dev/null bs=64k iflag=direct status=none; done' "/dev/$disk"
}
# An emptied group may already be gone: the daemon removes it.
emptied() { [ ! -e "$1/cgroup.events" ] || file_has "$1/cgroup.events" "populated 0"; }
stop_readers() {
    local g
    for g in "$@"; do echo 1 >"$g/cgroup.kill"; done
    for g in "$@"; do
        wait_until 10 emptied "$g" || fail "a reader in $g outlived cgroup.kill"
    done
}
# window SECONDS GROUPDIR...: bytes each group read over SECONDS, in WINDOW (in order).
window() {
    local secs=$1 g before=() i=0
    shift
    for g in "$@"; do before+=("$(rbytes "$g")"); done
    nap "$secs"
    WINDOW=()
    for g in "$@"; do
        WINDOW+=($(($(rbytes "$g") - before[i])))
        i=$((i + 1))
    done
}
# fresh_groups: new reader groups for the next phase. An emptied group is the
# daemon's to remove (it rescans every second), so a group is never reused.
phase=0
fresh_groups() {
    phase=$((phase + 1))
    light=$ROOT/iolight.slice/r$phase.scope
    heavy=$ROOT/ioheavy.slice/r$phase.scope
}
# contended: both classes read at once; RATIO is heavy's bytes over light's.
contended() {
    fresh_groups
    reader "$light"
    local l=$BG_PID
    reader "$heavy"
    local h=$BG_PID
    nap 1
    window 4 "$light" "$heavy"
    stop_readers "$light" "$heavy"
    wait "$l" "$h" 2>/dev/null
    [ "${WINDOW[0]}" -gt 0 ] || fail "the light reader read nothing"
    RATIO=$(calc "${WINDOW[1]} / ${WINDOW[0]}")
    note "$1: light read $((WINDOW[0] >> 20)) MiB, heavy $((WINDOW[1] >> 20)) MiB in 4 s: heavy/light = $RATIO"
}

# Without io.cost (the kernel's default): the weights change nothing.
contended "without io.cost"
in_range "heavy/light without io.cost (the weights are not honoured)" "$RATIO" 0.5 1.8

# io.cost with a model of this disk: what one reader alone gets, taken a little
# lower, so that the model (not QEMU) is what is contended.
fresh_groups
reader "$light"
solo=$BG_PID
nap 1
window 3 "$light"
stop_readers "$light"
wait "$solo" 2>/dev/null
bps=$((WINDOW[0] / 3 * 8 / 10))
iops=$((bps / 65536))
[ "$iops" -gt 0 ] || fail "one reader alone read only ${WINDOW[0]} bytes in 3 s"
echo "$dev ctrl=user model=linear rbps=$bps rseqiops=$iops rrandiops=$iops wbps=$bps wseqiops=$iops wrandiops=$iops" >"$model" ||
    fail "writing $model failed"
# The virtual rate pinned at 100% of the model: io.cost would otherwise raise it
# while latencies stay low, past what this disk can do.
echo "$dev enable=1 ctrl=user min=100.00 max=100.00" >"$qos" || fail "enabling io.cost on $dev failed"
note "io.cost on $dev: model '$(grep "^$dev" "$model")', qos '$(grep "^$dev" "$qos")'"
contended "with io.cost"
in_range "heavy/light with io.cost (io.weight 400 against 100)" "$RATIO" 2.8 5.5
