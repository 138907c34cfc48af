#!/bin/bash
# The deployment guest's test driver, run by gov-deploy.service (see make-image.sh)
# once systemd has reached multi-user.target. Runs the checks named in
# /share/config.sh in order -- each builds on the state the previous ones left (the
# package installed, the test policy in force) -- each in its own bash under timeout,
# and writes /share/results/<check>.result ("PASS", "FAIL: why", "SKIP: why") and
# <check>.log. The unit powers the machine off when this ends.
set -u
. /share/config.sh
results=/share/results
echo "GOV-DEPLOY payload started $(cut -d' ' -f1 /proc/uptime) s after boot"
systemctl is-system-running >"$results/system-state" 2>&1 || true
{ systemd-analyze time; systemd-analyze blame | head -n 15; } >"$results/boot-time" 2>&1 || true
for c in $GOV_CHECKS; do
    script=/share/checks/$c.sh
    t=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$script" | head -n 1)
    t=${t:-120}
    start=$(cut -d' ' -f1 /proc/uptime)
    rm -f "$results/$c.result"
    GOV_RESULT=$results/$c.result timeout --kill-after=5 "$t" \
        bash -c '. /share/guest/lib.sh && . "$0"' "$script" >"$results/$c.log" 2>&1
    rc=$?
    if [ ! -f "$results/$c.result" ]; then
        case $rc in
            0) echo PASS >"$results/$c.result" ;;
            124 | 137) echo "FAIL: timed out after $t s" >"$results/$c.result" ;;
            *) echo "FAIL: the check script exited with $rc (see its log)" >"$results/$c.result" ;;
        esac
    fi
    end=$(cut -d' ' -f1 /proc/uptime)
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" >"$results/$c.time"
    echo "GOV-DEPLOY check $c: $(head -n 1 "$results/$c.result") ($(cat "$results/$c.time"))"
done
# The daemon's whole journal, for whoever debugs a failure.
journalctl -u governord -u governor-root --no-pager -o short-monotonic \
    >"$results/units.journal" 2>&1 || true
journalctl -t governord --no-pager -o short-monotonic >"$results/governord.journal" 2>&1 || true
sync
touch "$results/suite.done"
echo "GOV-DEPLOY payload done $(cut -d' ' -f1 /proc/uptime) s after boot"
