# shellcheck shell=bash
# net_egress: a paced egress limit holds a class's TCP flow over a real veth to its rate (within 10%, retransmits reported) and UDP too, while an unlimited class beside it gets all it asks for
# timeout: 420
# No daemon: the cgroup network programs are driven by gov_vm_nettool (pinned in a
# bpffs, so each call adopts them). Traffic stays between the guest and a network
# namespace this check creates. The figures of the drop mode (a token bucket on the
# cgroup egress hook, which the daemon does not use: docs/network.md says why) are
# measured and printed here too, not asserted.
NT=$GOV_HELPERS/gov_vm_nettool
R=$CG/gov-net-egress
PIN=/sys/fs/bpf/gov-net-egress
RATE=2000000 # bytes/s: 2 MB/s (16 Mbit/s), far below what the guest's veth carries under TCG
FREE=5000000 # bytes/s the unlimited class asks for while the limited one runs
SECS=12
OUT=/run/gov-net-egress
mkdir -p "$OUT"

grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf || fail "mounting bpffs failed"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (Debian package iperf3)"
mkdir -p "$R/lim.slice/w.scope" "$R/free.slice/w.scope" || fail "mkdir under $R failed"

peer_cleanup() {
    ip netns pids govpeer 2>/dev/null | xargs -r kill 2>/dev/null
    ip link del govh 2>/dev/null
    ip netns del govpeer 2>/dev/null
    "$NT" "$R" "$PIN" detach 2>/dev/null
}
trap 'peer_cleanup; daemon_cleanup' EXIT

ip netns add govpeer || fail "ip netns add failed"
ip link add govh type veth peer name govp netns govpeer ||
    fail "creating the veth pair failed (module veth?)"
ip addr add 10.250.0.1/24 dev govh && ip link set govh up || fail "configuring govh failed"
ip -n govpeer addr add 10.250.0.2/24 dev govp && ip -n govpeer link set govp up &&
    ip -n govpeer link set lo up || fail "configuring the peer namespace failed"
for port in 5201 5202; do
    ip netns exec govpeer iperf3 -s -p $port -D -I "$OUT/iperf3-$port.pid" || fail "iperf3 -s failed"
done
wait_until 10 test -s "$OUT/iperf3-5202.pid" || fail "the iperf3 servers did not start"
"$NT" "$R" "$PIN" attach 2>/dev/null || fail "attaching the network programs failed"

# flow NAME GROUP PORT [iperf3 args]: an iperf3 client in GROUP (relative to R) for
# SECS seconds in the background, its JSON in OUT/NAME.json.
flow() {
    local name=$1 group=$2 port=$3
    shift 3
    run_in "$R/$group" iperf3 -c 10.250.0.2 -p "$port" -t "$SECS" -J "$@" >"$OUT/$name.json" 2>&1 &
}
# result NAME: "<bytes/s the server received> <retransmits>" of a finished TCP flow.
result() {
    python3 - "$OUT/$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d:
    print(0, "error:", d["error"].replace(" ", "_"))
else:
    e = d["end"]
    print(int(e["sum_received"]["bits_per_second"] / 8), e["sum_sent"].get("retransmits", 0))
PY
}
qdisc() {
    if [ "$1" = fq ]; then
        tc qdisc replace dev govh root fq || fail "tc qdisc replace dev govh root fq failed (module sch_fq?)"
    else
        tc qdisc del dev govh root 2>/dev/null
    fi
}
limit() { "$NT" "$R" "$PIN" limit lim.slice "$RATE" "$1" 2>/dev/null || fail "setting the $1 limit failed"; }

# run MODE: the limited class sends TCP as fast as it can while the unlimited class
# asks for FREE bytes/s; sets LIM (bytes/s received), RETR, STEADY (the programs' own
# count of what lim.slice sent over 4 s, starting 1 s into the flows plus the few
# seconds gov_vm_nettool takes to start under TCG; the flows last SECS=12 s) and
# FREE_GOT.
run() {
    local t0
    t0=$("$NT" "$R" "$PIN" throttled lim.slice 2>/dev/null)
    flow "lim_$1_$2" lim.slice/w.scope 5201
    flow "free_$1_$2" free.slice/w.scope 5202 -b $((FREE * 8))
    nap 1
    STEADY=$("$NT" "$R" "$PIN" rate lim.slice 4 2>/dev/null)
    wait
    read -r LIM RETR <<<"$(result "lim_$1_$2")"
    read -r FREE_GOT _ <<<"$(result "free_$1_$2")"
    THROTTLED=$(($("$NT" "$R" "$PIN" throttled lim.slice 2>/dev/null) - t0))
    echo "FIGURE $1 run $2: limited class $LIM bytes/s received ($(calc "$LIM / $RATE") of $RATE), steady $(calc "$STEADY / $RATE"), $RETR retransmits, $THROTTLED packets stamped late or refused; unlimited class $FREE_GOT of $FREE bytes/s asked"
}

note "the unlimited class alone, asking for $FREE bytes/s (fq on govh)"
qdisc fq
flow free_alone free.slice/w.scope 5202 -b $((FREE * 8))
wait
read -r free_alone _ <<<"$(result free_alone)"
in_range "unlimited class alone, share of what it asked" "$(calc "$free_alone / $FREE")" 0.95 1.05

note "pace (the daemon's mode): fq on govh, three runs"
limit pace
for i in 1 2 3; do
    run pace "$i"
    in_range "pace run $i: limited class, share of its rate (iperf3 receiver)" "$(calc "$LIM / $RATE")" 0.90 1.10
    in_range "pace run $i: limited class, share of its rate (steady, counted)" "$(calc "$STEADY / $RATE")" 0.90 1.10
    in_range "pace run $i: unlimited class beside it, share of what it asked" "$(calc "$FREE_GOT / $FREE")" 0.95 1.05
done
tc -s qdisc show dev govh

note "UDP from the limited class at 4x its rate (pace, fq)"
flow lim_udp lim.slice/w.scope 5201 -u -b 0 -l 1400
wait
udp=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["end"]["sum"]; print(int(s["bytes"]*(1-s["lost_percent"]/100)/s["seconds"]))' "$OUT/lim_udp.json")
echo "FIGURE pace udp: $udp bytes/s received ($(calc "$udp / $RATE") of $RATE)"
in_range "UDP from the limited class, share of its rate" "$(calc "$udp / $RATE")" 0.90 1.10

# The comparison behind docs/network.md, measured again in every run (printed, not
# asserted): what the other mechanisms give the same flow.
note "for the design note (not asserted): pace without fq, and the drop mode"
qdisc none
run pace-without-fq 1
limit drop
run drop 1
qdisc fq
run drop-with-fq 1
