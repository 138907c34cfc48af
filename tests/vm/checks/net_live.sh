# shellcheck shell=bash
# net_live: the host-live network tests (net_live_test) on the guest's Debian kernel: exact per-group counts, pinning and adoption, pacing behind fq (which the development host's kernel lacks), private networks with NAT
# timeout: 300
# The same binary as the live tier, run on the real kernel the fleet runs, with
# every module it needs (veth, sch_fq, bridge, nftables NAT). Everything it does
# stays in cgroups and network namespaces it creates.
[ -n "${GOV_NET_LIVE_TEST:-}" ] || fail "net_live_test is not built (no --net-live-test given to vm-suite.sh)"
[ -x "$GOV_NET_LIVE_TEST" ] || fail "$GOV_NET_LIVE_TEST is not executable"
note "running $GOV_NET_LIVE_TEST"
out=/run/gov-net-live.txt
"$GOV_NET_LIVE_TEST" --gtest_color=no >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" -eq 0 ] || fail "net_live_test failed (exit status $rc)"
# Nothing may be skipped here: the guest has every module the tests need.
if grep -q '^\[  SKIPPED \]' "$out"; then
    fail "net_live_test skipped tests on the guest kernel: $(grep '^\[  SKIPPED \]' "$out" | head -n 3 | tr '\n' ' ')"
fi
grep -q '^\[  PASSED  \]' "$out" || fail "net_live_test did not report its tests as passed"
