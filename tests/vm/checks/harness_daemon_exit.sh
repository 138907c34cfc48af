# shellcheck shell=bash
# harness_daemon_exit: daemon_start fails at once, with the exit status and the log, when governord exits before it is ready
# timeout: 90
# The harness itself: a governord that cannot start must fail the check that started
# it right away and say why, not pass as "ready" and not wait for the 60 s readiness
# limit. An invalid policy no longer stops governord (it runs the last good policy or
# the built-in one, docs/state.md), so the start is made to fail with a metrics
# address it cannot listen on (exit 1 after the policy is applied, before READY).
t0=$(now_s)
out=$( (daemon_start "$ROOT" "$STATE" --metrics-listen 127.0.0.1:99999) 2>&1)
rc=$?
took=$(calc "$(now_s) - $t0")
echo "$out" | sed 's/^/    | /'
[ "$rc" -ne 0 ] || fail "daemon_start returned 0 for a governord that exited"
[[ $out == *"FAIL: governord exited with status 1 before logging 'governord ready'"* ]] ||
    fail "daemon_start did not report governord's exit status 1"
[[ $out == *"bad port '99999'"* ]] || fail "daemon_start did not show the end of governord's log (the cause)"
in_range "seconds until daemon_start failed" "$took" 0 30
