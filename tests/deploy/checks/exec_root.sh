# timeout: 90
# govctl exec over the system bus as root: the command runs in a fresh group of the
# class, as root, with the caller's stdio, and its exit status is govctl's.
need_service
svc=$(root_cg)
out=$(govctl exec --class adhoc -- /bin/sh -c 'id -u; cat /proc/self/cgroup' </dev/null 2>&1) ||
    fail "govctl exec --class adhoc as root failed ($?): $out"
echo "$out"
expect_eq "uid in the workload" "$(echo "$out" | head -n 1)" 0
cg=$(echo "$out" | sed -n 's/^0:://p')
case $cg in
    "$svc/adhoc.slice/"?*) note "workload cgroup $cg" ;;
    *) fail "the workload ran in '$cg', not in a group under $svc/adhoc.slice" ;;
esac
govctl exec --class adhoc -- /bin/sh -c 'exit 7' </dev/null
expect_eq "exit status passed through" "$?" 7
govctl exec --class nosuchclass -- /bin/true </dev/null
expect_eq "unknown class exit status" "$?" 3
