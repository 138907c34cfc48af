# Shared by the VM checks: sourced (bash) inside the guest before a check script.
# Everything a check prints goes to its log; "FAIL: why" / "SKIP: why" lines become
# its verdict (see payload.sh).
# shellcheck shell=bash
set -u

CG=/sys/fs/cgroup
ALLOC=$GOV_HELPERS/gov_vm_alloc
FORKER=$GOV_HELPERS/gov_vm_forker
SPINNER=$GOV_HELPERS/gov_vm_spinner
TEST_POLICY=$GOV_VM_DIR/policies/test.toml

fail() {
    echo "FAIL: $*"
    exit 1
}
skip() {
    echo "SKIP: $*"
    exit 77
}
GOV_CHECK_T0=$EPOCHREALTIME
# note TEXT: a log line, stamped with the seconds since the check started.
note() {
    local t=$((${EPOCHREALTIME/./} - ${GOV_CHECK_T0/./}))
    printf -- '-- [%d.%02d] %s\n' $((t / 1000000)) $((t % 1000000 / 10000)) "$*"
}

# expect_eq WHAT GOT WANT: fails the check unless GOT is exactly WANT.
expect_eq() {
    if [ "$2" != "$3" ]; then
        fail "$1: got '$2', want '$3'"
    fi
    note "$1 = '$2' (as expected)"
}

# expect_file FILE WANT: the first line of FILE is exactly WANT.
expect_file() {
    local line=""
    [ -e "$1" ] || fail "$1 does not exist"
    IFS= read -r line <"$1"
    expect_eq "$1" "$line" "$2"
}

# Under TCG every exec of a dynamically linked program costs 60-300 ms (more when the
# host is busy), so the polling helpers here use bash builtins only.

# A descriptor that never becomes readable: `read -t` on it is a sleep without a fork.
exec {GOV_SLEEP_FD}<> <(:)
nap() { read -r -t "${1:-0.1}" -u "$GOV_SLEEP_FD" _ || true; }

# now_us: wall-clock microseconds (the guest clock follows real time under TCG).
now_us() { echo "${EPOCHREALTIME/./}"; }
# now_s: the same in seconds with fractions.
now_s() { echo "$EPOCHREALTIME"; }

# wait_until SECONDS CMD...: polls CMD every 0.1 s; returns 1 if it never succeeded.
wait_until() {
    local limit=$1
    shift
    local end=$(($(now_us) + limit * 1000000))
    until "$@"; do
        [ "$(now_us)" -lt "$end" ] || return 1
        nap 0.1
    done
}

# file_has FILE TEXT: FILE contains TEXT (builtins only).
file_has() {
    local content
    [ -r "$1" ] || return 1
    content=$(<"$1")
    [[ $content == *"$2"* ]]
}

# calc EXPR: floating-point arithmetic through awk, e.g. calc "3 / 2".
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }

# in_range WHAT VALUE LOW HIGH: fails unless LOW <= VALUE <= HIGH (floats).
in_range() {
    if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v >= lo && v <= hi) }'; then
        note "$1 = $2 within [$3, $4]"
    else
        fail "$1 = $2, outside [$3, $4]"
    fi
}

# stat_field FILE KEY: the value of "KEY VALUE" in a flat-keyed cgroup file
# (cpu.stat, memory.events, cgroup.events, pids.events); empty when absent.
stat_field() {
    local k v
    while read -r k v; do
        if [ "$k" = "$2" ]; then
            echo "$v"
            return
        fi
    done <"$1"
}

# whole_disks: "MAJ:MIN" of every whole block disk the guest has, one a line, sorted
# (partitions have a "partition" file; the guest has no loop or ram disks loaded).
whole_disks() {
    local b
    for b in /sys/block/*; do
        [ -e "$b/partition" ] && continue
        cat "$b/dev"
    done | sort -t: -k1,1n -k2,2n
}

# measure_cpu GROUPDIR SECONDS: samples GROUPDIR/cpu.stat over SECONDS and sets
# CPU_WALL_SHARE (usage / wall time, in CPUs), CPU_PERIOD_SHARE (usage per elapsed
# bandwidth period of GROUPDIR's cpu.max, in CPUs) and CPU_THROTTLED (nr_throttled
# increase). Under TCG on a busy host the period timer can fire late, which lowers
# the wall-clock share below the quota; the share per period does not depend on that.
measure_cpu() {
    local stat=$1/cpu.stat period u0 u1 p0 p1 n0 n1 t0 t1
    read -r _ period <"$1/cpu.max"
    u0=$(stat_field "$stat" usage_usec)
    p0=$(stat_field "$stat" nr_periods)
    n0=$(stat_field "$stat" nr_throttled)
    t0=$(now_us)
    nap "$2"
    u1=$(stat_field "$stat" usage_usec)
    p1=$(stat_field "$stat" nr_periods)
    n1=$(stat_field "$stat" nr_throttled)
    t1=$(now_us)
    CPU_WALL_SHARE=$(calc "($u1 - $u0) / ($t1 - $t0)")
    CPU_PERIOD_SHARE=$(calc "($u1 - $u0) / (($p1 - $p0 > 0 ? $p1 - $p0 : 1) * $period)")
    CPU_THROTTLED=$((n1 - n0))
    note "$1: usage_usec +$((u1 - u0)), nr_periods +$((p1 - p0)), nr_throttled +$CPU_THROTTLED over $(((t1 - t0) / 1000)) ms: $CPU_WALL_SHARE CPU of wall time, $CPU_PERIOD_SHARE CPU per period"
}

# ---- placing workloads the way an external placement would (until govctl exec) ----

# run_in GROUPDIR CMD...: creates GROUPDIR if needed, runs CMD inside it in the
# foreground and returns its status (128+signal when it was killed).
run_in() {
    local dir=$1
    shift
    mkdir -p "$dir" || return 125
    sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$@"
}

# run_in_bg GROUPDIR CMD...: the same in the background; the pid lands in BG_PID
# once it is inside the group.
BG_PID=""
run_in_bg() {
    local dir=$1
    shift
    mkdir -p "$dir" || fail "mkdir $dir failed"
    sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$dir" "$@" &
    BG_PID=$!
    wait_until 5 file_has "$dir/cgroup.procs" "$BG_PID" ||
        fail "workload $BG_PID did not land in $dir"
}

# ---- the daemon ----------------------------------------------------------------------

GOVD_PID=""
GOVD_LOG=""
GOVD_STARTS=0

need_governord() {
    [ -n "$GOVERNORD" ] || fail "governord is not built (no governord target in this build tree)"
    [ -x "$GOVERNORD" ] || fail "governord $GOVERNORD is not executable"
}

# daemon_start ROOT STATE_DIR [governord args...]: starts governord with
# --cgroup-root ROOT --state-dir STATE_DIR --log-level debug and waits (60 s at most)
# for "governord ready" in its log. A daemon that exits before that fails the check
# at once, with its exit status and the end of its log (not after the 60 s, and
# never as "ready"). Its stderr goes to a fresh log per start (GOVD_LOG);
# print_daemon_log shows it.
daemon_start() {
    need_governord
    local root=$1 state=$2
    shift 2
    GOVD_STARTS=$((GOVD_STARTS + 1))
    mkdir -p /run/gov-logs "$state"
    GOVD_LOG=/run/gov-logs/$(basename "$root")-$GOVD_STARTS.log
    note "starting: governord --cgroup-root $root --state-dir $state $* (log $GOVD_LOG)"
    "$GOVERNORD" --cgroup-root "$root" --state-dir "$state" --log-level debug "$@" \
        >"$GOVD_LOG" 2>&1 </dev/null &
    GOVD_PID=$!
    local t0 rc
    t0=$(now_s)
    if ! wait_until 60 daemon_ready_or_gone; then
        fail "governord (pid $GOVD_PID) did not log 'governord ready' within 60 s"
    fi
    if ! file_has "$GOVD_LOG" 'governord ready'; then
        wait "$GOVD_PID"
        rc=$?
        note "governord pid $GOVD_PID exited with status $rc after $(calc "$(now_s) - $t0") s; the end of $GOVD_LOG:"
        tail -n 20 "$GOVD_LOG"
        GOVD_PID=""
        fail "governord exited with status $rc before logging 'governord ready'"
    fi
    note "governord pid $GOVD_PID ready after $(calc "$(now_s) - $t0") s"
}
# daemon_ready_or_gone: true once governord logged "governord ready", or exited
# (daemon_start tells the two apart).
daemon_ready_or_gone() {
    file_has "$GOVD_LOG" 'governord ready' && return 0
    daemon_gone
}

# daemon_stop [SIGNAL]: sends SIGNAL (default TERM) and waits for the exit (20 s at
# most); GOVD_RC gets its exit status.
GOVD_RC=""
daemon_stop() {
    local sig=${1:-TERM}
    [ -n "$GOVD_PID" ] || return 0
    kill -"$sig" "$GOVD_PID" 2>/dev/null
    if ! wait_until 20 daemon_gone; then
        kill -KILL "$GOVD_PID" 2>/dev/null
        fail "governord did not exit within 20 s of SIG$sig"
    fi
    wait "$GOVD_PID" 2>/dev/null
    GOVD_RC=$?
    note "governord pid $GOVD_PID stopped by SIG$sig, exit status $GOVD_RC"
    GOVD_PID=""
}
daemon_gone() {
    local stat
    kill -0 "$GOVD_PID" 2>/dev/null || return 0
    # A zombie (exited, not yet reaped by us) still answers kill -0.
    stat=$(<"/proc/$GOVD_PID/stat") 2>/dev/null || return 0
    [[ ${stat##*) } == Z* ]]
}

print_daemon_log() {
    local f
    for f in /run/gov-logs/*.log; do
        [ -f "$f" ] || continue
        echo "----- $f (last 150 lines) -----"
        tail -n 150 "$f"
    done
}

# Every check ends here. A daemon still running is stopped with SIGTERM, and a check
# whose observations passed still fails when governord did not exit with status 0
# or when a sanitizer reported anything in any of its logs: those are defects of the
# daemon the check ran. The daemon logs go into the check's log.
daemon_cleanup() {
    local rc=$? f
    trap - EXIT
    if [ -n "$GOVD_PID" ]; then
        if [ "$rc" -eq 0 ]; then
            daemon_stop TERM
            if [ "$GOVD_RC" -ne 0 ]; then
                echo "FAIL: governord exited with status $GOVD_RC on SIGTERM at the end of the check"
                rc=1
            fi
        else
            kill -TERM "$GOVD_PID" 2>/dev/null && wait_until 5 daemon_gone
            kill -KILL "$GOVD_PID" 2>/dev/null
        fi
    fi
    print_daemon_log
    for f in /run/gov-logs/*.log; do
        [ -f "$f" ] || continue
        if grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$f"; then
            echo "FAIL: a sanitizer reported an error in governord ($f)"
            [ "$rc" -eq 0 ] && rc=1
        fi
    done
    [ "$rc" -eq 0 ] && echo "PASS"
    exit "$rc"
}
trap daemon_cleanup EXIT

# totals FILE CLASS FIELD: a number from the daemon's totals.json, "none" when the
# file, class or field is missing. Tolerant of fields it does not know.
totals() {
    python3 - "$@" <<'EOF'
import json, sys
path, cls, field = sys.argv[1:4]
try:
    with open(path) as f:
        data = json.load(f)
    print(data["classes"][cls][field])
except (OSError, ValueError, KeyError, TypeError):
    print("none")
EOF
}

# wait_totals FILE CLASS FIELD MIN SECONDS: waits until FIELD of CLASS in the totals
# file is >= MIN; prints the last value seen ("none" when absent) and returns 1 if it
# never got there. One python3 process polls (each start costs seconds under TCG),
# and leaves every scalar field of CLASS, as seen last, in TOTALS_SNAP as
# "field value" lines for snap_field (MIN 0 and SECONDS 0 just take a snapshot).
TOTALS_SNAP=/run/gov-totals.snap
wait_totals() {
    python3 - "$@" "$TOTALS_SNAP" <<'PY'
import json, sys, time
path, cls, field, want, limit, snap = sys.argv[1:7]
want, limit = int(want), float(limit)
end = time.monotonic() + limit
while True:
    try:
        with open(path) as f:
            fields = json.load(f)["classes"][cls]
        value = fields.get(field, "none")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        fields, value = {}, "none"
    done = isinstance(value, int) and value >= want
    if done or time.monotonic() > end:
        with open(snap, "w") as f:
            for k, v in fields.items():
                if isinstance(v, int):
                    f.write(f"{k} {v}\n")
        print(value)
        sys.exit(0 if done else 1)
    time.sleep(0.2)
PY
}

# snap_field FIELD: FIELD from the last wait_totals snapshot, 0 when it was absent.
snap_field() {
    local v
    v=$(stat_field "$TOTALS_SNAP" "$1")
    echo "${v:-0}"
}

# print_totals FILE: the whole totals file, for the log.
print_totals() {
    echo "----- $1 -----"
    cat "$1" 2>/dev/null || echo "(missing)"
    echo
}

# ---- the daemon with the test policy --------------------------------------------------
# Each check gets its own cgroup root and state folder (gov-<check>), so a check that
# fails leaves nothing the next one trips on (payload.sh also cleans up after each).
ROOT=$CG/gov-${GOV_CHECK:-check}
STATE=/run/gov-${GOV_CHECK:-check}/state
TOTALS=$STATE/totals.json

# start_test_daemon: governord with the test policy under ROOT, scanning for groups
# created by others every second (the default is 5 s) to keep the checks short.
start_test_daemon() {
    daemon_start "$ROOT" "$STATE" --policy "$TEST_POLICY" --rescan-interval 1
}

# wait_tracked GROUP [adopted|tracking]: waits (15 s at most) for the daemon to log
# that it tracks GROUP (relative to ROOT, e.g. acct.slice/long.scope).
wait_tracked() {
    local how=${2:-}
    if ! wait_until 15 file_has "$GOVD_LOG" "${how:+$how }workload group $1"; then
        fail "governord did not log '${how:+$how }workload group $1' within 15 s"
    fi
    note "governord logged: ${how:-tracking} workload group $1"
}

# ---- observations shared by a check and the negative control ------------------------

# observe_memory_limit EVENTS_DIR GROUP MIB: runs the allocator for MIB MiB in GROUP
# and returns 0 only when it was OOM-killed (SIGKILL) AND oom_kill in
# EVENTS_DIR/memory.events (hierarchical: GROUP or an ancestor) went up; 1 otherwise.
# Prints what it saw.
observe_memory_limit() {
    observe_oom "$1" "$3" run_in "$2"
}

# observe_oom EVENTS_DIR MIB LAUNCHER...: the same observation, with the allocator
# started by LAUNCHER... (a command prefix: `run_in GROUP`, `govctl exec --class C --`).
observe_oom() {
    local events=$1/memory.events mib=$2 before after rc out
    shift 2
    before=$(stat_field "$events" oom_kill)
    out=$("$@" "$ALLOC" "$mib" 2>&1)
    rc=$?
    after=$(stat_field "$events" oom_kill)
    note "alloc $mib MiB started by '$*': exit status $rc, last output '$(echo "$out" | tail -n 1)'"
    note "$events oom_kill: $before -> $after"
    if [ "$rc" -eq 137 ] && [ "$after" -gt "$before" ]; then
        note "observation: the $mib MiB allocation was OOM-killed (limit enforced)"
        return 0
    fi
    note "observation: the $mib MiB allocation was NOT OOM-killed (no limit enforced)"
    return 1
}

# The observations below are shared by the limit checks and their negative controls
# (negative_*.sh): each returns 0 when it saw the limit enforced and 1 when it did
# not, and fails the check outright when the observation itself broke (a helper that
# did not run), so that "not enforced" can never come from a broken setup.

# dd_rate GROUPDIR MIB: writes MIB MiB with O_DIRECT to /dev/vdb from GROUPDIR; prints
# MiB/s from dd's own byte count and elapsed time.
dd_rate() {
    local out
    # 256 KiB writes: few enough that a busy host's latency per write does not show.
    out=$(run_in "$1" dd if=/dev/zero of=/dev/vdb bs=256K count=$(($2 * 4)) oflag=direct 2>&1) ||
        fail "dd in $1 failed: $out"
    echo "$out" | tail -n 1 >&2
    echo "$out" | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1);
                                   print $1 / 1048576 / t }'
}

# observe_io_write_limit GROUPDIR: 5 MiB of direct writes from GROUPDIR run at the
# class's io.write_bps of 1 MiB/s (0.85-1.15 MiB/s). IO_RATE gets the rate.
observe_io_write_limit() {
    IO_RATE=$(dd_rate "$1" 5)
    [ -n "$IO_RATE" ] || fail "no rate from dd in $1"
    if awk -v v="$IO_RATE" 'BEGIN { exit !(v >= 0.85 && v <= 1.15) }'; then
        note "observation: direct writes from $1 ran at $IO_RATE MiB/s (the 1 MiB/s limit enforced)"
        return 0
    fi
    note "observation: direct writes from $1 ran at $IO_RATE MiB/s (NOT the 1 MiB/s limit)"
    return 1
}

# observe_pids_limit GROUPDIR: the forker in GROUPDIR gets 9 forks, then EAGAIN
# (pids.max 10 on it or an ancestor; the forker is the 10th task).
observe_pids_limit() {
    local out
    out=$(run_in "$1" "$FORKER" 50 2>&1) || fail "forker in $1 failed: $out"
    out=$(echo "$out" | tail -n 1)
    note "forker in $1: $out"
    if [ "$out" = "forks_ok=9 errno=EAGAIN" ]; then
        note "observation: 9 forks then EAGAIN (pids.max 10 enforced)"
        return 0
    fi
    note "observation: '$out' (pids.max 10 NOT enforced)"
    return 1
}

# observe_cpuset_cpu1 GROUPDIR: a two-thread spinner in GROUPDIR may run on CPU 1
# only and ran on CPU 1 only (Cpus_allowed_list, sched_getaffinity, the CPUs seen).
observe_cpuset_cpu1() {
    local out=/run/gov-$GOV_CHECK-cpuset.out allowed affinity ran
    # Two threads, so that anything but a confinement would spread them over both CPUs.
    run_in_bg "$1" sh -c "exec '$SPINNER' 2 2 >$out"
    allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$BG_PID/status")
    wait "$BG_PID" || fail "spinner in $1 failed with status $?"
    affinity=$(sed -n 's/^affinity=//p' "$out")
    ran=$(sed -n 's/^ran_on=//p' "$out")
    [ -n "$affinity" ] && [ -n "$ran" ] || fail "the spinner in $1 printed no affinity: $(cat "$out")"
    note "spinner in $1: Cpus_allowed_list $allowed, sched_getaffinity $affinity, ran on $ran"
    if [ "$allowed" = 1 ] && [ "$affinity" = 1 ] && [ "$ran" = 1 ]; then
        note "observation: confined to CPU 1 (cpuset.cpus enforced)"
        return 0
    fi
    note "observation: NOT confined to CPU 1"
    return 1
}

# observe_cpu_max_20 SLICEDIR SCOPE: a spinner in SLICEDIR/SCOPE gets 0.16-0.24 CPU per
# bandwidth period of SLICEDIR's cpu.max and is throttled (nr_throttled +10 at least)
# over a 2.5 s window while it spins (its start, dynamic loading over 9p, is slow
# under TCG and waits on I/O, which would skew a whole-run average).
observe_cpu_max_20() {
    local out=/run/gov-$GOV_CHECK-spinner.out
    run_in_bg "$1/$2" sh -c "exec '$SPINNER' 8 >$out"
    wait_until 30 file_has "$out" spinning || fail "the spinner in $1/$2 did not start within 30 s"
    nap 0.5
    measure_cpu "$1" 2.5
    kill "$BG_PID"
    wait "$BG_PID" 2>/dev/null || true
    if awk -v s="$CPU_PERIOD_SHARE" -v w="$CPU_WALL_SHARE" -v n="$CPU_THROTTLED" \
        'BEGIN { exit !(s >= 0.16 && s <= 0.24 && w <= 0.24 && n >= 10) }'; then
        note "observation: $CPU_PERIOD_SHARE CPU per period, $CPU_WALL_SHARE of wall time, throttled $CPU_THROTTLED times (cpu.max 20% enforced)"
        return 0
    fi
    note "observation: $CPU_PERIOD_SHARE CPU per period, $CPU_WALL_SHARE of wall time, throttled $CPU_THROTTLED times (cpu.max 20% NOT enforced)"
    return 1
}

# ---- adoption across a daemon restart --------------------------------------------------

# check_restart_adopts SIGNAL: a workload keeps running and governed while governord
# is stopped with SIGNAL and started again; the new daemon adopts its group and folds
# its accounting into the class totals when it ends.
check_restart_adopts() {
    local sig=$1 group=acct.slice/long.scope ended0 ended usage0 usage
    start_test_daemon
    expect_file "$ROOT/acct.slice/cpu.max" "10000 100000"
    run_in_bg "$ROOT/$group" "$SPINNER" 120
    local pid=$BG_PID
    note "workload: spinner pid $pid in $ROOT/$group"
    wait_tracked "$group"
    wait_totals "$TOTALS" acct workloads_ended 0 0 >/dev/null
    ended0=$(snap_field workloads_ended)
    usage0=$(snap_field cpu_usage_usec)

    daemon_stop "$sig"
    if [ "$sig" = TERM ] && [ "$GOVD_RC" -ne 0 ]; then
        fail "governord exited with status $GOVD_RC on SIGTERM (want 0)"
    fi
    kill -0 "$pid" 2>/dev/null || fail "the workload died with the daemon (SIG$sig)"
    [ -d "$ROOT/$group" ] || fail "$ROOT/$group disappeared with the daemon (SIG$sig)"
    file_has "$ROOT/$group/cgroup.procs" "$pid" || fail "the workload left $ROOT/$group"
    note "after SIG$sig: workload $pid still running in $ROOT/$group"

    start_test_daemon
    wait_tracked "$group" adopted
    [ -d "$ROOT/$group" ] || fail "$ROOT/$group was removed by the restarted daemon"
    file_has "$ROOT/$group/cgroup.procs" "$pid" || fail "the workload left $ROOT/$group"
    expect_file "$ROOT/acct.slice/cpu.max" "10000 100000"
    expect_file "$ROOT/acct.slice/memory.max" 134217728
    expect_file "$ROOT/acct.slice/pids.max" 50
    # Still governed: the running workload is throttled to its class's 10%.
    measure_cpu "$ROOT/acct.slice" 2
    in_range "CPU per period of the adopted workload" "$CPU_PERIOD_SHARE" 0.07 0.13
    in_range "CPU share of wall time of the adopted workload" "$CPU_WALL_SHARE" 0.01 0.13
    in_range "nr_throttled increase" "$CPU_THROTTLED" 5 1000000

    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    note "workload $pid ended; waiting for its accounting"
    ended=$(wait_totals "$TOTALS" acct workloads_ended $((ended0 + 1)) 20) || {
        print_totals "$TOTALS"
        fail "acct workloads_ended is $ended, want $((ended0 + 1)) (the adopted workload's end was not accounted)"
    }
    note "acct workloads_ended: $ended0 -> $ended"
    usage=$(snap_field cpu_usage_usec)
    if [ "$usage" -lt $((usage0 + 100000)) ]; then
        print_totals "$TOTALS"
        fail "acct cpu_usage_usec is $usage, want at least $usage0 + 100000 (the spinner ran at 10% for seconds)"
    fi
    note "acct cpu_usage_usec: $usage0 -> $usage"
    wait_until 10 test ! -d "$ROOT/$group" || fail "$ROOT/$group was not removed after it ended"
    note "$ROOT/$group removed after its accounting"
    print_totals "$TOTALS"
}
