# timeout: 180
# `systemctl restart governord` keeps a running workload (KillMode=process): its pid
# survives in its group, the new daemon adopts the group, and the class's accounting
# (totals.json) carries on from where it was -- the workload's end after the restart
# is counted once.
need_service
root=$(svc_root)
svc=$(root_cg)
# One finished workload first, so the class has totals to keep.
govctl exec --class adhoc -- /bin/sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done' </dev/null
ended_is_positive() { [ "$(total workloads_ended)" -gt 0 ]; }
wait_until 20 ended_is_positive || fail "totals.json has no ended adhoc workload: $(read_file /var/lib/governor/totals.json)"
wpid=$(start_sleeper adhoc 600)
[ -n "$wpid" ] || fail "the sleep 600 workload did not show up in adhoc.slice"
wcg=$(sed -n 's/^0:://p' /proc/$wpid/cgroup)
ended=$(total workloads_ended)
cpu=$(total cpu_usage_usec)
old=$(main_pid)
keeper=$(root_pid)
note "workload $wpid in $wcg; adhoc totals: $ended ended, $cpu us cpu; daemon $old"

t0=$SECONDS
timeout 120 systemctl restart governord || fail "systemctl restart governord failed: $(systemctl status governord --no-pager 2>&1 | tail -n 25)"
wait_until 60 svc_active || fail "governord is not active after restart: $(systemctl status governord --no-pager 2>&1 | tail -n 25)"
new=$(main_pid)
note "restarted in $((SECONDS - t0)) s: daemon $old -> $new"
[ "$new" != "$old" ] || fail "MainPID did not change ($old): no restart happened"
expect_eq "governor-root's keeper (never restarted)" "$(root_pid)" "$keeper"
kill -0 "$wpid" 2>/dev/null || fail "the workload $wpid did not survive the restart"
expect_eq "the workload's cgroup after the restart" "$(sed -n 's/^0:://p' /proc/$wpid/cgroup)" "$wcg"
grep -qx "$new" "$root/governord/cgroup.procs" || fail "the new daemon $new is not in $root/governord"
[ "$(total workloads_ended)" -ge "$ended" ] || fail "totals went backwards across the restart: $ended -> $(total workloads_ended) ended"
[ "$(total cpu_usage_usec)" -ge "$cpu" ] || fail "cpu totals went backwards: $cpu -> $(total cpu_usage_usec)"
govctl ls </dev/null | tee /tmp/ls.txt
grep -q "$(basename "$wcg")" /tmp/ls.txt || fail "govctl ls after the restart does not list the adopted group $(basename "$wcg")"

# The adopted workload's end is accounted by the new daemon, once.
kill "$wpid"
gone() { [ ! -d "/sys/fs/cgroup$wcg" ]; }
wait_until 30 gone || fail "the adopted group $wcg was not removed after its workload ended"
counted() { [ "$(total workloads_ended)" -eq $((ended + 1)) ]; }
wait_until 10 counted || fail "adhoc workloads_ended is $(total workloads_ended) after the adopted workload ended, expected $((ended + 1))"
note "adopted workload ended and counted: $ended -> $(total workloads_ended) ended"
