# timeout: 90
# govctl exec as an unprivileged user: alice (in adhoc's exec.users) runs as herself
# in adhoc; bob (in no list) and alice in core (not allowed there) are refused with
# exit status 4. The D-Bus policy lets both reach the daemon.
need_service
svc=$(root_cg)
alice=$(id -u alice)
out=$(cd / && runuser -u alice -- govctl exec --class adhoc -- /bin/sh -c 'id -u; id -g; cat /proc/self/cgroup' </dev/null 2>&1) ||
    fail "govctl exec --class adhoc as alice failed ($?): $out"
echo "$out"
expect_eq "uid in alice's workload" "$(echo "$out" | sed -n 1p)" "$alice"
expect_eq "gid in alice's workload" "$(echo "$out" | sed -n 2p)" "$(id -g alice)"
cg=$(echo "$out" | sed -n 's/^0:://p')
case $cg in
    "$svc/adhoc.slice/"?*) note "alice's workload cgroup $cg" ;;
    *) fail "alice's workload ran in '$cg', not under $svc/adhoc.slice" ;;
esac
out=$(cd / && runuser -u bob -- govctl exec --class adhoc -- /bin/true </dev/null 2>&1)
expect_eq "bob into adhoc: exit status" "$?" 4
note "bob: $out"
out=$(cd / && runuser -u alice -- govctl exec --class core -- /bin/true </dev/null 2>&1)
expect_eq "alice into core: exit status" "$?" 4
note "alice into core: $out"
