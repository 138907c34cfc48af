# shellcheck shell=bash
# smoke: cgroup2 at /sys/fs/cgroup with every controller, enableable; the guest as expected
# timeout: 30
# Needs no daemon: proves the harness gives the checks the kernel they need.
expect_eq "filesystem type of $CG" "$(stat -fc %T "$CG")" cgroup2fs
controllers=$(cat "$CG/cgroup.controllers")
note "root cgroup.controllers: $controllers"
for c in cpuset cpu io memory pids; do
    case " $controllers " in
        *" $c "*) ;;
        *) fail "controller $c is not offered at $CG (cgroup.controllers: $controllers)" ;;
    esac
done
grep -q '^cgroup ' /proc/mounts && fail "a cgroup v1 hierarchy is mounted: $(grep '^cgroup ' /proc/mounts)"

echo "+cpuset +cpu +io +memory +pids" >"$CG/cgroup.subtree_control" ||
    fail "enabling the controllers in $CG/cgroup.subtree_control failed"
mkdir "$CG/smoke" || fail "mkdir $CG/smoke failed"
for f in memory.max memory.high memory.low memory.min memory.peak memory.events pids.max \
    io.max cpu.max cpu.weight cpu.stat cgroup.freeze cgroup.kill; do
    [ -e "$CG/smoke/$f" ] || fail "$CG/smoke/$f is missing with the controllers enabled"
done
echo "+cpuset +memory" >"$CG/smoke/cgroup.subtree_control" || fail "enabling cpuset and memory below $CG/smoke failed"
mkdir "$CG/smoke/leaf"
[ -e "$CG/smoke/leaf/cpuset.cpus" ] || fail "cpuset.cpus missing in a nested group"

expect_eq "online CPUs" "$(nproc)" 2
disks=$(whole_disks | tr '\n' ' ')
note "whole disks: $disks"
[ "$(whole_disks | wc -l)" -ge 2 ] || fail "expected at least 2 virtio disks, got: $disks"

# The helpers (built by the test tree, dynamically linked) run from the shared root,
# inside a group.
out=$(run_in "$CG/smoke/leaf" "$ALLOC" 8) || fail "alloc 8 in $CG/smoke/leaf failed: $out"
expect_eq "alloc output" "$(echo "$out" | tail -n 1)" "allocated 8 MiB"
peak=$(cat "$CG/smoke/leaf/memory.peak")
in_range "memory.peak of the leaf after touching 8 MiB (bytes)" "$peak" 8388608 67108864
