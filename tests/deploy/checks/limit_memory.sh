# timeout: 120
# adhoc's memory.max (64 MiB) holds: a workload buffering 150 MiB is OOM-killed, the
# class's memory.peak stays at the limit, and the service survives its workload's
# OOM kill (OOMPolicy=continue).
need_service
root=$(svc_root)
expect_eq "adhoc memory.max" "$(read_file "$root/adhoc.slice/memory.max")" 67108864
before=$(sed -n 's/^oom_kill //p' "$root/adhoc.slice/memory.events")
# tail -c keeps the last 150 MiB of its input in memory.
govctl exec --class adhoc -- /bin/sh -c 'head -c 200M /dev/zero | tail -c 150M >/dev/null; echo "pipeline status $?"' </dev/null
after=$(sed -n 's/^oom_kill //p' "$root/adhoc.slice/memory.events")
note "adhoc oom_kill $before -> $after"
[ "${after:-0}" -gt "${before:-0}" ] || fail "no OOM kill in adhoc.slice: $(read_file "$root/adhoc.slice/memory.events")"
peak=$(read_file "$root/adhoc.slice/memory.peak")
note "adhoc memory.peak $peak"
case $peak in
    *[!0-9]*) note "memory.peak not available on this kernel" ;;
    *) [ "$peak" -le 67108864 ] || fail "adhoc memory.peak $peak is over memory.max 67108864" ;;
esac
sleep 2
svc_active || fail "governord is not active after a workload's OOM kill: $(systemctl status governord --no-pager 2>&1 | tail -n 15)"
note "governord still active (OOMPolicy=continue)"
