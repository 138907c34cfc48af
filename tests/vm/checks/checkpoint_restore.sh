# shellcheck shell=bash
# checkpoint_restore: CRIU through runtime/ — a counting workload is checkpointed, killed and restored into a fresh group of its class and counts on; failures leave it running
# timeout: 600
# Without the daemon: gov_vm_checkpoint_tool calls runtime's checkpointGroup and
# restoreIntoGroup (CRIU over its RPC) on groups this check makes, shaped like
# Governor's (<root>/<class>.slice/<name>.scope, the class limits on the slice).

TOOL=$GOV_HELPERS/gov_vm_checkpoint_tool
COUNTER=$GOV_HELPERS/gov_vm_counter
[ -x "$TOOL" ] || fail "$TOOL is not built"
R=$CG/gov-ckpt
CLASS_DIR=$R/noncore.slice
CLASS_MEM=$((512 * 1024 * 1024))
WORK=/tmp/ckpt
mkdir -p "$WORK"

# The result line of the tool is key=value pairs; field LINE KEY prints one value.
field() { local kv; for kv in $1; do [ "${kv%%=*}" = "$2" ] && echo "${kv#*=}"; done; }
# last_count FILE: the counter value of the file's last line.
last_count() { local l; l=$(tail -n 1 "$1"); echo "${l%% *}"; }
lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
count_above() { [ -f "$1" ] && [ "$(last_count "$1")" -gt "$2" ] 2>/dev/null; }
events() { stat_field "$1/cgroup.events" "$2"; }
# show_log DIR: the end of CRIU's logs in DIR and the tool's stderr, for a failure.
show_log() {  # always returns 1, so that `... || show_log D || fail` fails
    local f
    for f in "$1"/criu-*.log "$TOOL_ERR"; do
        [ -f "$f" ] && { echo "----- $f (last 25 lines)"; tail -n 25 "$f"; }
    done
    return 1
}

# The tool's stderr (ASan's note about the spawner's stack switch, CRIU's early
# messages) goes to a file; its stdout is one result line.
TOOL_ERR=$WORK/tool.stderr
tool() { "$TOOL" "$@" 2>>"$TOOL_ERR"; }
out=$(tool check) || {
    note "criu check (console) says:"
    criu check 2>&1 | tail -n 20
    fail "CRIU cannot start here: $out"
}
note "$out"

# The class, as governord makes it on a cgroupfs backend.
echo "+memory +pids +cpu" >"$CG/cgroup.subtree_control" || fail "enable controllers at $CG"
mkdir -p "$CLASS_DIR"
echo "+memory +pids +cpu" >"$R/cgroup.subtree_control" || fail "enable controllers in $R"
echo "+memory +pids +cpu" >"$CLASS_DIR/cgroup.subtree_control" || fail "enable controllers in $CLASS_DIR"
echo "$CLASS_MEM" >"$CLASS_DIR/memory.max"
echo 100 >"$CLASS_DIR/pids.max"

# start_counter NAME FILE PERIOD_MS [MIB]: a counter in NAME.scope with /dev/null as
# stdio, in a session of its own like the workloads governord starts (CRIU restores
# a tree's session and process group; a session leader outside the tree, this
# check's shell, would have to come back too); its pid in BG_PID.
start_counter() {
    local name=$1 file=$2 period=$3 mib=${4:-0}
    run_in_bg "$CLASS_DIR/$name.scope" setsid sh -c 'exec "$0" "$@" </dev/null >/dev/null 2>&1' \
        "$COUNTER" "$file" "$period" $([ "$mib" -gt 0 ] && echo "$mib")
}

# ---- 1. stdio that cannot come back: refused, the workload untouched -------------
exec 7> >(cat >/dev/null)
run_in_bg "$CLASS_DIR/piped.scope" setsid sh -c 'exec "$0" "$@" </dev/null 2>/dev/null' \
    "$COUNTER" "$WORK/piped.count" 100 >&7
piped_pid=$BG_PID
wait_until 30 lines_at_least "$WORK/piped.count" 3 || fail "the piped counter does not count"
out=$(tool dump "$R" noncore.slice/piped.scope "$WORK/piped" noncore) &&
    fail "a checkpoint of a workload whose stdout is a pipe to the outside succeeded: $out"
note "refused as it should be: $out"
[[ $out == *"cannot re-attach"*"pipe:["* ]] || fail "the refusal does not name the pipe: $out"
expect_eq "piped.scope cgroup.freeze after the refusal" "$(<"$CLASS_DIR/piped.scope/cgroup.freeze")" 0
expect_eq "piped.scope frozen after the refusal" "$(events "$CLASS_DIR/piped.scope" frozen)" 0
[ -f "$WORK/piped/INCOMPLETE" ] || fail "the refused checkpoint's folder is not marked INCOMPLETE"
n=$(last_count "$WORK/piped.count")
wait_until 10 count_above "$WORK/piped.count" $((n + 2)) || fail "the piped counter stopped after the refusal"
out=$(tool dump "$R" noncore.slice/piped.scope "$WORK/piped2" noncore --detach-stdio --leave-running) ||
    show_log "$WORK/piped2" || fail "checkpoint with --detach-stdio failed: $out"
note "with --detach-stdio: $out"
expect_eq "lost stdio recorded" "$(field "$out" lost_stdio)" 1
grep -Eq "^[[:space:]]*resource = [\"']pipe:\[" "$WORK/piped2/manifest.toml" || fail "the manifest does not list the pipe"
n=$(last_count "$WORK/piped.count")
wait_until 10 count_above "$WORK/piped.count" $((n + 2)) || fail "the piped counter stopped after --leave-running"
kill "$piped_pid"
exec 7>&-

# ---- 2. a checkpoint failing mid-way (a full filesystem) leaves it running --------
start_counter w1 "$WORK/w1.count" 100
w1=$BG_PID
wait_until 30 lines_at_least "$WORK/w1.count" 5 || fail "the counter does not count"
mkdir -p "$WORK/full"
mount -t tmpfs -o size=128k tmpfs "$WORK/full" || fail "mount a 128 KiB tmpfs"
out=$(tool dump "$R" noncore.slice/w1.scope "$WORK/full/ck" noncore) &&
    fail "a checkpoint into a 128 KiB filesystem succeeded: $out"
note "failed as it should: $out"
expect_eq "w1 cgroup.freeze after the failed dump" "$(<"$CLASS_DIR/w1.scope/cgroup.freeze")" 0
expect_eq "w1 frozen after the failed dump" "$(events "$CLASS_DIR/w1.scope" frozen)" 0
kill -0 "$w1" || fail "the counter died in the failed checkpoint"
n=$(last_count "$WORK/w1.count")
wait_until 10 count_above "$WORK/w1.count" $((n + 2)) || fail "the counter stopped counting after the failed checkpoint"
[ -f "$WORK/full/ck/INCOMPLETE" ] || fail "the failed checkpoint's folder is not marked INCOMPLETE"
note "INCOMPLETE: $(<"$WORK/full/ck/INCOMPLETE")"
ls "$WORK/full/ck" | grep -q 'pages-' && fail "the failed checkpoint left its page images"
umount "$WORK/full"

# ---- 3. checkpoint, kill, restore into a fresh group of the class -----------------
wait_until 30 lines_at_least "$WORK/w1.count" 20 || fail "the counter does not count"
t_dump=$(now_us)
out=$(tool dump "$R" noncore.slice/w1.scope "$WORK/ck1" noncore) || show_log "$WORK/ck1" || fail "checkpoint failed: $out"
t_dumped=$(now_us)
note "checkpointed: $out"
echo "TIMING small checkpoint: $out"
wait_until 10 test "$(events "$CLASS_DIR/w1.scope" populated)" = 0 || fail "w1.scope still populated after the checkpoint"
wait "$w1" 2>/dev/null
stopped_at=$(last_count "$WORK/w1.count")
nap 1
expect_eq "count after the kill (nothing counts)" "$(last_count "$WORK/w1.count")" "$stopped_at"
grep -Eq "^class = [\"']noncore[\"']" "$WORK/ck1/manifest.toml" || fail "manifest has no class"
cat "$WORK/ck1/manifest.toml"

# Refused: the class's memory cannot hold the image.
mkdir "$CLASS_DIR/r0.scope"
out=$(tool restore "$R" noncore.slice/r0.scope "$WORK/ck1" noncore 4096) &&
    fail "a restore into a class with memory.max 4096 succeeded: $out"
[[ $out == *"is below the image"* ]] || fail "the refusal does not say why: $out"
note "refused: $out"
expect_eq "r0.scope populated after the refusal" "$(events "$CLASS_DIR/r0.scope" populated)" 0

mkdir "$CLASS_DIR/r1.scope"
t_restore=$(now_us)
out=$(tool restore "$R" noncore.slice/r1.scope "$WORK/ck1" noncore "$CLASS_MEM") ||
    show_log "$WORK/ck1" || fail "restore failed: $out"
t_restored=$(now_us)
note "restored: $out"
echo "TIMING small restore: $out"
pid=$(field "$out" pid)
file_has "$CLASS_DIR/r1.scope/cgroup.procs" "$pid" || fail "restored pid $pid is not in r1.scope"
note "/proc/$pid/cgroup: $(</proc/$pid/cgroup)"
wait_until 30 count_above "$WORK/w1.count" $((stopped_at + 10)) ||
    fail "the restored counter does not count on (last $(last_count "$WORK/w1.count"), stopped at $stopped_at)"
# The line after the last one before the checkpoint continues the sequence: no
# restart from 1, no count lost or repeated, and the time between the two lines is
# no more than the checkpoint-to-restore window.
read -r next next_us < <(awk -v n="$((stopped_at + 1))" '$1 == n' "$WORK/w1.count")
read -r _ stop_us < <(awk -v n="$stopped_at" '$1 == n' "$WORK/w1.count")
expect_eq "the count after the restore" "$next" "$((stopped_at + 1))"
expect_eq "lines counting $stopped_at+1 (no repeat)" "$(awk -v n="$((stopped_at + 1))" '$1 == n' "$WORK/w1.count" | wc -l)" 1
ones=$(awk '$1 == 1' "$WORK/w1.count" | wc -l)
expect_eq "lines counting 1 (no restart)" "$ones" 1
gap_ms=$(((next_us - stop_us) / 1000))
window_ms=$(((t_restored - t_dump) / 1000 + 200))
note "gap in the file ${gap_ms} ms; checkpoint start to restore end ${window_ms} ms (dump $(((t_dumped - t_dump) / 1000)) ms, restore $(((t_restored - t_restore) / 1000)) ms)"
[ "$gap_ms" -le "$window_ms" ] || fail "the gap in the file (${gap_ms} ms) is longer than checkpoint to restore (${window_ms} ms)"
awk 'NR > 1 && $1 != prev + 1 { print "count jumps from " prev " to " $1; bad = 1 } { prev = $1 } END { exit bad }' \
    "$WORK/w1.count" || fail "the counts are not contiguous"
# The class limits bound it and its accounting lands in the class.
expect_eq "class memory.max" "$(<"$CLASS_DIR/memory.max")" "$CLASS_MEM"
u0=$(stat_field "$CLASS_DIR/cpu.stat" usage_usec)
nap 1
u1=$(stat_field "$CLASS_DIR/cpu.stat" usage_usec)
[ "$u1" -gt "$u0" ] || fail "the class's cpu usage does not grow with the restored workload"
mem=$(<"$CLASS_DIR/r1.scope/memory.current")
[ "$mem" -gt 0 ] || fail "r1.scope memory.current is 0"
note "class usage_usec +$((u1 - u0)) in 1 s, r1.scope memory.current $mem"

# A second checkpoint of the restored workload (criu issue 1034 was about exactly this).
out=$(tool dump "$R" noncore.slice/r1.scope "$WORK/ck1b" noncore --leave-running) ||
    show_log "$WORK/ck1b" || fail "a second checkpoint of the restored workload failed: $out"
note "second checkpoint (left running): $out"
n=$(last_count "$WORK/w1.count")
wait_until 10 count_above "$WORK/w1.count" $((n + 2)) || fail "the restored counter stopped after --leave-running"
echo 1 >"$CLASS_DIR/r1.scope/cgroup.kill"

# ---- 4. a 256 MiB workload: times, and its memory comes back intact ---------------
start_counter big "$WORK/big.count" 500 256
big=$BG_PID
wait_until 120 lines_at_least "$WORK/big.count" 2 || fail "the 256 MiB counter does not count"
out=$(tool dump "$R" noncore.slice/big.scope "$WORK/ck2" noncore) || show_log "$WORK/ck2" || fail "checkpoint (256 MiB) failed: $out"
echo "TIMING 256MiB checkpoint: $out"
mem=$(field "$out" memory_bytes)
[ "$mem" -ge $((256 * 1024 * 1024)) ] || fail "memory_bytes $mem is below the 256 MiB the workload holds"
wait "$big" 2>/dev/null
stopped_at=$(last_count "$WORK/big.count")
mkdir "$CLASS_DIR/r2.scope"
out=$(tool restore "$R" noncore.slice/r2.scope "$WORK/ck2" noncore "$CLASS_MEM") || show_log "$WORK/ck2" || fail "restore (256 MiB) failed: $out"
echo "TIMING 256MiB restore: $out"
wait_until 120 count_above "$WORK/big.count" $((stopped_at + 1)) || fail "the restored 256 MiB counter does not count on"
grep -q CORRUPT "$WORK/big.count" && fail "the restored memory is not what was dumped"
note "256 MiB workload restored intact, counting on from $stopped_at"
echo 1 >"$CLASS_DIR/r2.scope/cgroup.kill"
echo PASS
