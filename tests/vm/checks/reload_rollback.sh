# shellcheck shell=bash
# reload_rollback: a reload that the kernel refuses halfway is rolled back; the previous policy stays in force and a later good reload applies
# timeout: 120
# The policy validator accepts cpuset.cpus "3" (it cannot know the host's CPUs);
# the guest has CPUs 0-1, so the kernel refuses that write (EINVAL). Class aa comes
# before zz in the policy, so aa's new values are written before the refusal and
# must be written back.
policy=/run/gov-$GOV_CHECK/policy.toml
mkdir -p "${policy%/*}"
cat >"$policy" <<'TOML'
[classes.aa]
memory.max = "64MiB"
pids.max = 10
[classes.zz]
cpuset.cpus = "1"
TOML
daemon_start "$ROOT" "$STATE" --policy "$policy" --rescan-interval 1
expect_file "$ROOT/aa.slice/memory.max" 67108864
expect_file "$ROOT/aa.slice/pids.max" 10
expect_file "$ROOT/zz.slice/cpuset.cpus" 1

cat >"$policy" <<'TOML'
[classes.aa]
memory.max = "32MiB"
pids.max = 20
[classes.zz]
cpuset.cpus = "3"
TOML
kill -HUP "$GOVD_PID"
wait_until 30 file_has "$GOVD_LOG" "reload: the new policy failed to apply" ||
    fail "governord did not log a failed reload within 30 s"
grep -m1 "reload: the new policy failed to apply" "$GOVD_LOG"
file_has "$GOVD_LOG" "zz.slice" || fail "the failure does not name zz.slice"
file_has "$GOVD_LOG" "write aa.slice/memory.max: 67108864 -> 33554432" ||
    fail "aa's memory.max was not written before the refused write: nothing to roll back (write order changed?)"
note "aa.slice/memory.max was written (67108864 -> 33554432) before the kernel refused zz.slice/cpuset.cpus"
file_has "$GOVD_LOG" "roll back to the previous policy failed" && fail "the roll back itself failed"
expect_file "$ROOT/aa.slice/memory.max" 67108864
expect_file "$ROOT/aa.slice/pids.max" 10
expect_file "$ROOT/zz.slice/cpuset.cpus" 1
kill -0 "$GOVD_PID" 2>/dev/null || fail "governord died after the refused reload"

# The previous policy is the one in force: a good reload is planned from it.
cat >"$policy" <<'TOML'
[classes.aa]
memory.max = "48MiB"
pids.max = 10
[classes.zz]
cpuset.cpus = "1"
TOML
kill -HUP "$GOVD_PID"
wait_until 30 file_has "$ROOT/aa.slice/memory.max" 50331648 ||
    fail "a good reload after the refused one did not apply: aa memory.max $(<"$ROOT/aa.slice/memory.max")"
expect_file "$ROOT/aa.slice/memory.max" 50331648
expect_file "$ROOT/zz.slice/cpuset.cpus" 1
