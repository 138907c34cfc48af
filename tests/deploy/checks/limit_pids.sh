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
# The refused forks are counted in pids.events of the workload's own group (the
# kernel counts them where the forking task lives, not at the slice whose limit
# was hit), so read it while the sleeps still hold the group.
first=$(head -n 1 /tmp/forked)
scope=$(sed -n 's/^0:://p' "/proc/$first/cgroup" 2>/dev/null)
events=$(read_file "/sys/fs/cgroup$scope/pids.events")
kill $(cat /tmp/forked) 2>/dev/null
[ "$n" -ge 5 ] && [ "$n" -lt 20 ] || fail "forked $n sleeps in a class with pids.max 20 (expected fewer than 20, at least 5)"
max_events=$(echo "$events" | sed -n 's/^max //p')
[ "${max_events:-0}" -ge 1 ] || fail "pids.events of the workload group $scope has no max event: $events"
note "pids.events of $scope: max $max_events"
