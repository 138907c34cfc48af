# shellcheck shell=bash
# freeze_thaw_kill: govctl freezes, thaws and kills a workload group through the daemon
# timeout: 120
[ -n "$GOVCTL" ] || skip "freeze/kill through the daemon need govctl (not built yet)"
[ -x "$GOVCTL" ] || fail "govctl $GOVCTL is not built (the govctl target exists in this tree)"
fail "govctl is built but this check does not know its interface yet (tests/vm/checks/freeze_thaw_kill.sh)"
