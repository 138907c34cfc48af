# shellcheck shell=bash
# memory_protection: under global memory pressure a class with memory.low keeps its workload's memory while an unprotected one is reclaimed, with cgroup2 mounted with memory_recursiveprot (shared by the workload groups) and without it (written on them)
# timeout: 420
# Needs swap (anonymous memory can only be reclaimed to swap): the guest's third
# virtio disk (serial "govswap"), on for this check only.
swapdev=""
for b in /sys/block/vd*; do
    [ "$(cat "$b/serial" 2>/dev/null)" = govswap ] && swapdev=/dev/${b##*/}
done
[ -n "$swapdev" ] || fail "the guest has no swap disk (a virtio disk with serial govswap)"
[ -n "$GOVCTL" ] && [ -x "$GOVCTL" ] || fail "govctl is not built: workload groups are made by govctl exec"

# recursiveprot: whether cgroup2 is mounted with memory_recursiveprot now.
recursiveprot() { grep -q ' - cgroup2 .*memory_recursiveprot' /proc/self/mountinfo; }
# mount_flags with|without: the option is a flag of the one cgroup2 hierarchy, set
# by every mount of it: mount it once more with or without it, and unmount.
mount_flags() {
    local opts=nsdelegate
    [ "$1" = with ] && opts=$opts,memory_recursiveprot
    mkdir -p /run/cg2-flags
    mount -t cgroup2 -o "$opts" cgroup2 /run/cg2-flags || return 1
    umount /run/cg2-flags
    if [ "$1" = with ]; then recursiveprot; else ! recursiveprot; fi
}
set_recursiveprot() {
    mount_flags "$1" || fail "could not mount cgroup2 $1 memory_recursiveprot"
    note "cgroup2 now mounted $1 memory_recursiveprot"
}
was=without
recursiveprot && was=with
restore() {
    local rc=$?
    swapoff "$swapdev" 2>/dev/null
    mount_flags "$was" || echo "FAIL: could not put the cgroup2 mount back $was memory_recursiveprot"
    (exit "$rc")
    daemon_cleanup
}
trap restore EXIT
mkswap "$swapdev" >/dev/null || fail "mkswap $swapdev failed"
swapon "$swapdev" || fail "swapon $swapdev failed"
note "swap on $swapdev: $(tail -n +2 /proc/swaps)"

meminfo() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' /proc/meminfo; }
# scope_of CLASS: the workload group of CLASS that has processes (a previous
# round's, emptied, may not be removed yet).
scope_of() {
    local d
    for d in "$ROOT/$1.slice"/*.scope; do
        [ -d "$d" ] && file_has "$d/cgroup.events" "populated 1" && echo "$d" && return 0
    done
    return 1
}

# round with|without: governord on the policy, a 160 MiB workload in each of prot
# (memory.low 192 MiB) and unprot through govctl exec, then an allocation outside
# Governor's root that needs more than the memory left; the protected workload must
# keep its memory, the other must lose a good part of it.
round() {
    local mode=$1 p u press pp ppid up upid p0 u0 p1 u1 need
    set_recursiveprot "$mode"
    daemon_start "$ROOT" "$STATE" --policy "$GOV_VM_DIR/policies/knobs.toml" --rescan-interval 1
    file_has "$GOVD_LOG" "mounted $mode memory_recursiveprot" ||
        fail "governord did not log that cgroup2 is mounted $mode memory_recursiveprot"
    # The root holds the sum of the classes' protection (the kernel gives a group no
    # more than its parent has).
    expect_file "$ROOT/memory.low" 201326592
    expect_file "$ROOT/prot.slice/memory.low" 201326592

    "$GOVCTL" exec --class prot -- "$ALLOC" 160 hold >/run/prot.out 2>&1 </dev/null &
    pp=$!
    "$GOVCTL" exec --class unprot -- "$ALLOC" 160 hold >/run/unprot.out 2>&1 </dev/null &
    up=$!
    wait_until 120 file_has /run/prot.out "allocated 160 MiB" ||
        fail "the protected workload did not allocate: $(cat /run/prot.out)"
    wait_until 120 file_has /run/unprot.out "allocated 160 MiB" ||
        fail "the unprotected workload did not allocate: $(cat /run/unprot.out)"
    p=$(scope_of prot) || fail "no workload group of class prot"
    u=$(scope_of unprot) || fail "no workload group of class unprot"
    if [ "$mode" = with ]; then
        # Shared by the kernel: the workload group sets none itself.
        expect_file "$p/memory.low" 0
    else
        # Written on the workload group, or the kernel would give it none.
        expect_file "$p/memory.low" 201326592
    fi
    p0=$(<"$p/memory.current")
    u0=$(<"$u/memory.current")
    # What is available and 384 MiB more, so that reclaim must take from both
    # workloads' 160 MiB; the protected one's stay under its 192 MiB memory.low.
    # Measured (TCG, kernel 6.1): the unprotected kept 0.73-0.75 of its memory with
    # 192 MiB more, 0.69-0.70 with 256 MiB more, the protected 0.999-1.
    need=$(($(meminfo MemAvailable) + 384))
    note "MemTotal $(meminfo MemTotal) MiB, MemAvailable $(meminfo MemAvailable) MiB; prot holds $((p0 >> 20)) MiB, unprot $((u0 >> 20)) MiB; pressure: $need MiB outside Governor's root"
    run_in_bg "$CG/gov-pressure" "$ALLOC" "$need" hold >/run/press.out
    press=$BG_PID
    wait_until 180 file_has /run/press.out "allocated $need MiB" ||
        fail "the pressure allocation did not complete: $(tail -n 2 /run/press.out)"
    p1=$(<"$p/memory.current")
    u1=$(<"$u/memory.current")
    note "under pressure: prot $((p0 >> 20)) -> $((p1 >> 20)) MiB, unprot $((u0 >> 20)) -> $((u1 >> 20)) MiB; swap used $(awk 'NR == 2 { print int($4 / 1024) }' /proc/swaps) MiB; prot memory.events: $(tr '\n' ' ' <"$p/memory.events")"
    kill -KILL "$press"
    echo 1 >"$p/cgroup.kill"
    echo 1 >"$u/cgroup.kill"
    wait "$press" "$pp" "$up" 2>/dev/null
    in_range "share of its memory the protected workload kept ($mode memory_recursiveprot)" \
        "$(calc "$p1 / $p0")" 0.9 1.1
    in_range "share of its memory the unprotected workload kept ($mode memory_recursiveprot)" \
        "$(calc "$u1 / $u0")" 0 0.8
    daemon_stop TERM
    [ "$GOVD_RC" -eq 0 ] || fail "governord exited with status $GOVD_RC on SIGTERM"
}

round without
round with
