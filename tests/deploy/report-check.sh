#!/bin/sh
# report-check.sh RESULTS_DIR CHECK: one deployment check as a ctest test. Prints the
# check's log and exits 0 (PASS), 1 (FAIL, or no result: the guest never got to it)
# or 77 (SKIP, with the reason).
results=$1 check=$2
if [ -f "$results/$check.log" ]; then
    echo "----- $check.log -----"
    cat "$results/$check.log"
    echo "-----"
fi
if [ ! -f "$results/$check.result" ]; then
    echo "FAIL: no result for $check (did deploy.suite run and reach it? see its output)"
    exit 1
fi
result=$(head -n 1 "$results/$check.result")
echo "$result"
case $result in
    PASS*) exit 0 ;;
    SKIP*) exit 77 ;;
    *) exit 1 ;;
esac
