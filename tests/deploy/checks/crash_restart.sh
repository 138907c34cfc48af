# timeout: 120
# A crashed governord is restarted by systemd (Restart=on-failure, RestartSec=2s),
# which is why the cgroup root lives in governor-root.service: the crash and the
# restart leave governor-root's keeper and the workloads alone, and the new daemon
# adopts the running workload.
need_service
expect_eq "Restart= of governord.service" "$(systemctl show -p Restart --value governord)" on-failure
wpid=$(start_sleeper adhoc 600)
[ -n "$wpid" ] || fail "the sleep 600 workload did not show up in adhoc.slice"
wcg=$(sed -n 's/^0:://p' /proc/$wpid/cgroup)
old=$(main_pid)
keeper=$(root_pid)
n0=$(systemctl show -p NRestarts --value governord)
since=$(date '+%Y-%m-%d %H:%M:%S')
note "workload $wpid in $wcg; daemon $old; NRestarts $n0; SIGSEGV to the daemon"
kill -SEGV "$old"
restarted() {
    local p
    p=$(main_pid)
    [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && svc_active
}
wait_until 60 restarted || fail "governord was not restarted within 60 s of its crash: $(systemctl status governord --no-pager 2>&1 | tail -n 20)"
note "restarted: daemon $old -> $(main_pid)"
expect_eq "NRestarts after the crash" "$(systemctl show -p NRestarts --value governord)" $((n0 + 1))
journalctl -u governord --since "$since" --no-pager | grep -E 'SEGV|Scheduled restart' || true
journalctl -u governord --since "$since" --no-pager | grep -q 'Scheduled restart job' ||
    fail "the journal has no 'Scheduled restart job' for governord after the crash"
expect_eq "governor-root's keeper after the crash" "$(root_pid)" "$keeper"
kill -0 "$wpid" 2>/dev/null || fail "the workload $wpid died with the crashed daemon"
expect_eq "the workload's cgroup after the crash" "$(sed -n 's/^0:://p' /proc/$wpid/cgroup)" "$wcg"
adopted() { journalctl -t governord --since "$since" --no-pager | grep -q "adopted workload group.*$(basename "$wcg")"; }
wait_until 30 adopted || fail "the restarted daemon did not log that it adopted $(basename "$wcg")"
note "the restarted daemon adopted $(basename "$wcg")"
kill "$wpid"
