# shellcheck shell=bash
# oom_group: an OOM kill ends the whole workload group (memory.oom.group, on by default for workload groups); workload.memory.oom.group = false loses one process
# timeout: 240
# Workload groups are made by govctl exec (the daemon writes the workload defaults
# on the new group); each govctl start costs seconds in the guest.
[ -n "$GOVCTL" ] && [ -x "$GOVCTL" ] || fail "govctl is not built: workload groups are made by govctl exec"
daemon_start "$ROOT" "$STATE" --policy "$GOV_VM_DIR/policies/knobs.toml" --rescan-interval 1
expect_file "$ROOT/oomg.slice/memory.max" 67108864
# The class itself keeps the kernel default; the default is for workload groups.
expect_file "$ROOT/oomg.slice/memory.oom.group" 0

# pid_gone PID: the process has exited (gone, or a zombie no one reaped yet).
pid_gone() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    [[ ${stat##*) } == Z* ]]
}

# oom_pair CLASS: govctl exec of a workload of two processes in CLASS, a sleeper in
# the background (its output not ours: a survivor holding the pipe would keep the
# command substitution waiting) and an allocator over the class's 64 MiB. Sets PAIR_RC (govctl's
# status), PAIR_SLEEPER (the sleeper's pid) and PAIR_OOMGROUP (memory.oom.group of
# the workload's group, read by the workload itself).
oom_pair() {
    local cls=$1 out
    rm -f /run/pair.pid /run/pair.oomgroup
    out=$("$GOVCTL" exec --class "$cls" -- sh -c '
        sleep 300 >/dev/null 2>&1 </dev/null &
        echo $! >/run/pair.pid
        cg=$(cut -d: -f3 /proc/self/cgroup)
        cat "/sys/fs/cgroup$cg/memory.oom.group" >/run/pair.oomgroup
        exec "$0" 128' "$ALLOC" 2>&1)
    PAIR_RC=$?
    PAIR_SLEEPER=$(cat /run/pair.pid 2>/dev/null)
    PAIR_OOMGROUP=$(cat /run/pair.oomgroup 2>/dev/null)
    note "govctl exec --class $cls: status $PAIR_RC, sleeper pid ${PAIR_SLEEPER:-?}," \
        "memory.oom.group ${PAIR_OOMGROUP:-?}, last output '$(echo "$out" | tail -n 1)'"
    [ -n "$PAIR_SLEEPER" ] || fail "the workload in class $cls did not record its sleeper: $out"
}

events=$ROOT/oomg.slice/memory.events
group_kills0=$(stat_field "$events" oom_group_kill)
oom_pair oomg
expect_eq "memory.oom.group of a workload group of class oomg (the workload default)" "$PAIR_OOMGROUP" 1
expect_eq "govctl exec status (the allocator was OOM-killed)" "$PAIR_RC" 137
wait_until 10 pid_gone "$PAIR_SLEEPER" ||
    fail "the sleeper $PAIR_SLEEPER outlived the OOM kill of its workload group (memory.oom.group 1)"
note "the sleeper $PAIR_SLEEPER was killed with the allocator"
if [ -n "$group_kills0" ]; then
    group_kills=$(stat_field "$events" oom_group_kill)
    [ "$group_kills" -gt "$group_kills0" ] ||
        fail "$events oom_group_kill stayed at $group_kills0 after a group OOM kill"
    note "$events oom_group_kill: $group_kills0 -> $group_kills"
else
    note "this kernel's memory.events has no oom_group_kill; the sleeper's death is the proof"
fi

# The control: the same workload where the class turned the default off.
oom_pair oomone
expect_eq "memory.oom.group of a workload group of class oomone (workload.memory.oom.group = false)" "$PAIR_OOMGROUP" 0
expect_eq "govctl exec status (the allocator was OOM-killed)" "$PAIR_RC" 137
pid_gone "$PAIR_SLEEPER" &&
    fail "the sleeper $PAIR_SLEEPER died with the allocator although memory.oom.group is 0"
note "the sleeper $PAIR_SLEEPER survived the OOM kill of the allocator (memory.oom.group 0)"
kill -KILL "$PAIR_SLEEPER"
