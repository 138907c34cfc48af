# timeout: 90
# The installed service is up the notify way (READY=1, a status text), owns its root
# as documented (governor-root.service's delegated cgroup; the daemon in
# <root>/governord, one slice per class of the built-in default policy, since no
# /etc/governor/policy.toml exists yet), and serves metrics on port 9783.
need_service
systemctl show -p Type -p NotifyAccess -p KillMode -p WatchdogUSec governord
systemctl show -p Delegate -p KillMode -p OOMPolicy -p TasksMax -p RefuseManualStop governor-root
expect_eq "governor-root.service" "$(systemctl is-active governor-root)" active
status=$(systemctl show -p StatusText --value governord)
[ -n "$status" ] || fail "governord sent no STATUS= text"
note "StatusText: $status"
root=$(svc_root)
pid=$(main_pid)
grep -qx "$pid" "$root/governord/cgroup.procs" || fail "MainPID $pid is not in $root/governord (cgroup.procs: $(read_file "$root/governord/cgroup.procs"))"
note "daemon $pid in $root/governord"
[ -z "$(cat "$root/cgroup.procs")" ] || fail "processes left in the service cgroup itself: $(cat "$root/cgroup.procs")"
for c in core noncore adhoc; do
    [ -d "$root/$c.slice" ] || fail "no $c.slice under $root (default policy)"
done
note "subtree_control: $(cat "$root/cgroup.subtree_control")"
expect_eq "adhoc memory.max (default policy)" "$(read_file "$root/adhoc.slice/memory.max")" 2147483648
expect_eq "adhoc pids.max (default policy)" "$(read_file "$root/adhoc.slice/pids.max")" 1000
expect_eq "noncore memory.max (default policy)" "$(read_file "$root/noncore.slice/memory.max")" 1073741824
[ -d /var/lib/governor ] || fail "StateDirectory /var/lib/governor was not created"
metrics=$(http_get /metrics) || fail "no answer on 127.0.0.1:9783"
echo "$metrics" | grep -q '^HTTP/1\.[01] 200' || fail "GET /metrics: $(echo "$metrics" | head -n 1)"
echo "$metrics" | grep -q '^governor_' || fail "GET /metrics has no governor_ series"
note "metrics: $(echo "$metrics" | grep -c '^governor_') governor_ samples"
