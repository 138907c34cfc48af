# timeout: 150
# WatchdogSec=30s: a governord whose event loop no longer runs (stopped with
# SIGSTOP, so no WATCHDOG=1 reaches systemd) is killed by systemd (SIGABRT) once the
# 30 s are over, and restarted (Restart=on-failure); the workloads keep running.
need_service
expect_eq "WatchdogSec= of governord.service" "$(systemctl show -p WatchdogUSec --value governord)" 30s
wpid=$(start_sleeper adhoc 600)
[ -n "$wpid" ] || fail "the sleep 600 workload did not show up in adhoc.slice"
old=$(main_pid)
n0=$(systemctl show -p NRestarts --value governord)
since=$(date '+%Y-%m-%d %H:%M:%S')
note "daemon $old stopped with SIGSTOP (its loop, and its watchdog pings, stop)"
kill -STOP "$old"
t0=$SECONDS
restarted() {
    local p
    p=$(main_pid)
    [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$old" ] && svc_active
}
wait_until 100 restarted || {
    kill -CONT "$old" 2>/dev/null
    fail "governord was not restarted within 100 s of its loop stopping: $(systemctl status governord --no-pager 2>&1 | tail -n 20)"
}
took=$((SECONDS - t0))
note "restarted after $took s: daemon $old -> $(main_pid)"
[ "$took" -ge 25 ] || fail "restarted after $took s, before WatchdogSec=30s ran out: not the watchdog's doing"
journalctl -u governord --since "$since" --no-pager | grep -E 'atchdog|SIGABRT|Scheduled restart' || true
journalctl -u governord --since "$since" --no-pager | grep -q 'Watchdog timeout' ||
    fail "the journal has no 'Watchdog timeout' for governord"
expect_eq "NRestarts after the watchdog" "$(systemctl show -p NRestarts --value governord)" $((n0 + 1))
kill -0 "$wpid" 2>/dev/null || fail "the workload $wpid died with the wedged daemon"
kill "$wpid"
