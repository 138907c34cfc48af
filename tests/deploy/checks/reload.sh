# timeout: 150
# `systemctl reload governord` (SIGHUP) applies a changed policy file; an invalid one
# leaves the previous policy in force and the service running.
# First what an operator does after installing: the daemon runs the built-in
# default (no /etc/governor/policy.toml yet), the policy file is created, and a
# reload must pick it up. If it does not, that is recorded as this check's failure
# and governord is restarted, so that the later checks run with the test policy.
need_service
root=$(svc_root)
pid=$(main_pid)
pids_is() { [ "$(cat "$root/adhoc.slice/pids.max" 2>/dev/null)" = "$1" ]; }
first_failure=""

install_policy test
reload_service
if ! wait_until 30 pids_is 20; then
    first_failure="a reload did not apply a newly created /etc/governor/policy.toml (the daemon had started without one: adhoc pids.max stayed $(read_file "$root/adhoc.slice/pids.max")); governord was restarted to continue"
    note "$first_failure"
    timeout 90 systemctl restart governord || fail "systemctl restart governord failed: $(systemctl status governord --no-pager 2>&1 | tail -n 20)"
    wait_until 30 pids_is 20 || fail "even after a restart adhoc pids.max is $(read_file "$root/adhoc.slice/pids.max"), expected 20"
    pid=$(main_pid)
fi
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
[ -z "$first_failure" ] || fail "$first_failure"
