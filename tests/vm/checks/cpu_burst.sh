# shellcheck shell=bash
# cpu_burst: a class with cpu.burst (cpu.max.burst) spends saved quota above its cpu.max in bursts; one without never does
# timeout: 150
daemon_start "$ROOT" "$STATE" --policy "$GOV_VM_DIR/policies/knobs.toml" --rescan-interval 1
expect_file "$ROOT/burst.slice/cpu.max" "20000 100000"
expect_file "$ROOT/burst.slice/cpu.max.burst" 20000
expect_file "$ROOT/noburst.slice/cpu.max.burst" 0

# A bursty workload: idle for 0.4 s (the unused quota is saved, up to the burst),
# then spinning for 0.4 s, six times. The kernel counts the periods in which a
# group ran over its quota out of its savings (cpu.stat nr_bursts, burst_usec).
bursty() {
    run_in "$1" bash -c 'for i in 1 2 3 4 5 6; do
        read -r -t 0.4 _ <> <(:)
        "$0" 0.4 >/dev/null
    done' "$SPINNER" || fail "the bursty workload in $1 failed with status $?"
}
bursty "$ROOT/burst.slice/w.scope"
bursty "$ROOT/noburst.slice/w.scope"
for cls in burst noburst; do
    note "$cls.slice cpu.stat: $(tr '\n' ' ' <"$ROOT/$cls.slice/cpu.stat")"
done
nr=$(stat_field "$ROOT/burst.slice/cpu.stat" nr_bursts)
us=$(stat_field "$ROOT/burst.slice/cpu.stat" burst_usec)
[ -n "$nr" ] || fail "cpu.stat has no nr_bursts on this kernel"
[ "$nr" -ge 1 ] && [ "$us" -gt 0 ] ||
    fail "class burst (cpu.burst 20ms) never ran over its quota: nr_bursts $nr, burst_usec $us"
note "class burst: $nr bursts, $us us above the quota"
expect_eq "nr_bursts of class noburst (no cpu.burst)" "$(stat_field "$ROOT/noburst.slice/cpu.stat" nr_bursts)" 0
