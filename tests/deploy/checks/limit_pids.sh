# timeout: 90
# adhoc's pids.max (20 in test.toml) holds for a workload started with govctl exec:
# forks beyond it fail, and pids.events counts them.
need_service
root=$(svc_root)
expect_eq "adhoc pids.max" "$(read_file "$root/adhoc.slice/pids.max")" 20
rm -f /tmp/forked
# dash stops at the first fork that fails ("Cannot fork"); every sleep that did start
# wrote its pid first.
govctl exec --class adhoc -- /bin/sh -c 'for i in $(seq 40); do sleep 120 & echo $! >>/tmp/forked; done' </dev/null
n=$(wc -l </tmp/forked)
note "forked $n of 40 sleeps"
kill $(cat /tmp/forked) 2>/dev/null
[ "$n" -ge 5 ] && [ "$n" -lt 20 ] || fail "forked $n sleeps in a class with pids.max 20 (expected fewer than 20, at least 5)"
max_events=$(sed -n 's/^max //p' "$root/adhoc.slice/pids.events")
[ "${max_events:-0}" -ge 1 ] || fail "pids.events of adhoc.slice has no max event: $(read_file "$root/adhoc.slice/pids.events")"
note "pids.events max $max_events"
