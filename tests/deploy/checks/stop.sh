# timeout: 150
# `systemctl stop governord` ends the daemon only; the workloads keep running.
# governor-root.service refuses a manual restart (it would fail while workloads
# exist). The documented way to end everything, `systemctl kill --kill-whom=all
# governor-root`, does; then `systemctl start governord` brings both units back.
need_service
wpid=$(start_sleeper adhoc 800)
[ -n "$wpid" ] || fail "the sleep 800 workload did not show up in adhoc.slice"
timeout 60 systemctl stop governord || fail "systemctl stop governord failed"
expect_eq "governord after stop" "$(systemctl is-active governord)" inactive
kill -0 "$wpid" 2>/dev/null || fail "systemctl stop killed the workload $wpid"
note "workload $wpid survived the stop"
if timeout 30 systemctl restart governor-root 2>/tmp/refused; then
    fail "systemctl restart governor-root was not refused"
fi
note "restart of governor-root refused: $(cat /tmp/refused)"
systemctl kill --kill-whom=all governor-root
dead() { ! kill -0 "$wpid" 2>/dev/null || [ "$(cut -d' ' -f3 /proc/$wpid/stat 2>/dev/null)" = Z ]; }
wait_until 20 dead || fail "systemctl kill --kill-whom=all governor-root did not end the workload $wpid"
note "systemctl kill --kill-whom=all governor-root ended it"
root_down() { [ "$(systemctl is-active governor-root)" != active ]; }
wait_until 20 root_down || fail "governor-root is still active after its keeper was killed"
timeout 60 systemctl start governord || fail "systemctl start governord failed after the kill: $(systemctl status governord governor-root --no-pager 2>&1 | tail -n 30)"
wait_until 60 svc_active || fail "governord is not active after start"
expect_eq "governor-root after start" "$(systemctl is-active governor-root)" active
[ -d "$(svc_root)/adhoc.slice" ] || fail "no adhoc.slice after the fresh start"
note "both units back, classes recreated"
