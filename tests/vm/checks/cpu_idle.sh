# shellcheck shell=bash
# cpu_idle: a cpu.idle class on the same CPU as a normal one gets almost none of it
# timeout: 120
daemon_start "$ROOT" "$STATE" --policy "$GOV_VM_DIR/policies/knobs.toml" --rescan-interval 1
expect_file "$ROOT/idle.slice/cpu.idle" 1
expect_file "$ROOT/busy.slice/cpu.idle" 0
expect_file "$ROOT/idle.slice/cpuset.cpus" 1
expect_file "$ROOT/busy.slice/cpuset.cpus" 1

# One spinner in each class, both confined to CPU 1: at equal weights they would
# share it half and half; an idle group runs only when the other leaves it idle.
run_in_bg "$ROOT/busy.slice/b.scope" "$SPINNER" 6
busy=$BG_PID
run_in_bg "$ROOT/idle.slice/i.scope" "$SPINNER" 6
idle=$BG_PID
nap 1
b0=$(stat_field "$ROOT/busy.slice/b.scope/cpu.stat" usage_usec)
i0=$(stat_field "$ROOT/idle.slice/i.scope/cpu.stat" usage_usec)
t0=$(now_us)
nap 3
b1=$(stat_field "$ROOT/busy.slice/b.scope/cpu.stat" usage_usec)
i1=$(stat_field "$ROOT/idle.slice/i.scope/cpu.stat" usage_usec)
t1=$(now_us)
note "over $(((t1 - t0) / 1000)) ms on CPU 1: busy used $((b1 - b0)) us, idle used $((i1 - i0)) us"
[ $((b1 - b0 + i1 - i0)) -gt 0 ] || fail "neither spinner used any CPU"
in_range "the idle class's share of CPU 1 (0.5 without cpu.idle)" \
    "$(calc "($i1 - $i0) / ($b1 - $b0 + $i1 - $i0)")" 0 0.1
wait "$busy" "$idle"
