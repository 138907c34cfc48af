# timeout: 120
# `systemctl reload governord` (SIGHUP) applies a changed policy file; an invalid one
# leaves the previous policy in force and the service running.
need_service
root=$(svc_root)
pid=$(main_pid)
pids_is() { [ "$(cat "$root/adhoc.slice/pids.max" 2>/dev/null)" = "$1" ]; }

install_policy test
reload_service
wait_until 30 pids_is 20 || fail "after reload with test.toml: adhoc pids.max is $(read_file "$root/adhoc.slice/pids.max"), expected 20"
expect_eq "adhoc memory.max (test.toml)" "$(read_file "$root/adhoc.slice/memory.max")" 67108864
expect_eq "noncore memory.max (test.toml)" "$(read_file "$root/noncore.slice/memory.max")" 268435456

install_policy test-reloaded
reload_service
wait_until 30 pids_is 30 || fail "after reload with test-reloaded.toml: adhoc pids.max is $(read_file "$root/adhoc.slice/pids.max"), expected 30"
note "adhoc pids.max 20 -> 30 by systemctl reload"

install_policy invalid
reload_service
sleep 3
svc_active || fail "governord is not active after reloading an invalid policy"
pids_is 30 || fail "an invalid policy changed adhoc pids.max to $(read_file "$root/adhoc.slice/pids.max")"
expect_eq "MainPID unchanged by the reloads" "$(main_pid)" "$pid"
note "invalid policy refused, previous policy in force"

install_policy test
reload_service
wait_until 30 pids_is 20 || fail "back to test.toml: adhoc pids.max is $(read_file "$root/adhoc.slice/pids.max")"
