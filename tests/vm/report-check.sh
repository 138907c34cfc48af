#!/usr/bin/env bash
# report-check.sh RESULTS NAME: the ctest face of one VM check. Prints the check's log
# and exits 0 for PASS, 77 for SKIP (ctest shows it as skipped, with the reason) and
# 1 for FAIL or for a missing result (the suite did not run or did not get there).
set -u
results=$1 name=$2
if [ ! -f "$results/$name.result" ]; then
    echo "FAIL: no result for VM check $name in $results: the vm.suite test (the boot) did not run or did not reach it"
    exit 1
fi
verdict=$(head -n 1 "$results/$name.result")
cat "$results/$name.log" 2>/dev/null || echo "(no log for $name)"
echo "VM check $name: $verdict"
case $verdict in
    PASS) exit 0 ;;
    SKIP*) exit 77 ;;
    *) exit 1 ;;
esac
