# timeout: 180
# Installing a newer version of the package over the running one restarts governord
# (dh_installsystemd's postinst) without ending a running workload, and the new
# daemon keeps governing it.
need_service
deb=/share/$GOV_DEB_NEXT
[ -f "$deb" ] || fail "no package $deb in the share"
wpid=$(start_sleeper adhoc 700)
[ -n "$wpid" ] || fail "the sleep 700 workload did not show up in adhoc.slice"
old=$(main_pid)
keeper=$(root_pid)
dpkg -i "$deb" || fail "dpkg -i $(basename "$deb") (upgrade) failed"
expect_eq "installed version" "$(dpkg-query -W -f='${Version}' governor)" "$(dpkg-deb -f "$deb" Version)"
wait_until 60 svc_active || fail "governord is not active after the upgrade: $(systemctl status governord --no-pager 2>&1 | tail -n 25)"
new=$(main_pid)
[ "$new" != "$old" ] || fail "the upgrade did not restart governord (MainPID still $old)"
note "upgrade restarted the daemon: $old -> $new"
expect_eq "governor-root's keeper after the upgrade (not restarted)" "$(root_pid)" "$keeper"
kill -0 "$wpid" 2>/dev/null || fail "the workload $wpid did not survive the upgrade"
pid_in_class "$wpid" adhoc || fail "the workload $wpid left adhoc after the upgrade: $(cat /proc/$wpid/cgroup)"
expect_eq "adhoc pids.max after the upgrade (policy kept)" "$(read_file "$(svc_root)/adhoc.slice/pids.max")" 20
kill "$wpid"
