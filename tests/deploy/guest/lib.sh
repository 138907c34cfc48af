# Sourced by every deployment check (in the guest, as root). A check passes when it
# runs to its end; fail/skip record the result and end it.
# shellcheck shell=bash
set -u
. /share/config.sh

fail() { echo "FAIL: $*" | tee "$GOV_RESULT"; exit 1; }
skip() { echo "SKIP: $*" | tee "$GOV_RESULT"; exit 0; }
note() { echo "  $*"; }

# wait_until SECONDS CMD...: runs CMD every 0.2 s until it succeeds; false on timeout.
wait_until() {
    local limit=$1
    shift
    local end=$((SECONDS + limit))
    while ! "$@"; do
        [ $SECONDS -lt "$end" ] || return 1
        sleep 0.2
    done
}

svc_active() { [ "$(systemctl is-active governord 2>/dev/null)" = active ]; }
main_pid() { systemctl show -p MainPID --value governord; }
root_pid() { systemctl show -p MainPID --value governor-root; }
# Governor's root: the delegated cgroup of governor-root.service (path under the
# cgroup2 mount, and the full path).
root_cg() { systemctl show -p ControlGroup --value governor-root; }
svc_root() { echo "/sys/fs/cgroup$(root_cg)"; }

# need_service: the previous checks left governord installed and running.
need_service() {
    dpkg-query -W -f='${Status}' governor 2>/dev/null | grep -q "install ok installed" ||
        fail "the governor package is not installed (see the install check)"
    wait_until 30 svc_active || fail "governord is not active: $(systemctl status governord --no-pager 2>&1 | tail -n 20)"
}

# read_file PATH: its content, or a marker saying it is missing.
read_file() { cat "$1" 2>/dev/null || echo "<missing $1>"; }

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
    [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
    note "$1 = $2"
}

# http_get PATH: GET http://127.0.0.1:9783PATH with bash's /dev/tcp (no curl here).
http_get() {
    local fd
    exec {fd}<>/dev/tcp/127.0.0.1/9783 || return 1
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&"$fd"
    timeout 10 cat <&"$fd"
    exec {fd}<&-
}

# groups_of CLASS: the workload groups of CLASS now (names, one a line).
groups_of() {
    local d
    for d in "$(svc_root)/$1.slice"/*/; do
        [ -d "$d" ] && basename "$d"
    done
    return 0
}

# pid_in_class PID CLASS: PID's cgroup is a workload group of CLASS under the root.
pid_in_class() {
    local cg
    cg=$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null)
    case $cg in
        "$(root_cg)/$2.slice/"*) return 0 ;;
    esac
    return 1
}

# install_policy NAME: the test policy policies/NAME.toml as /etc/governor/policy.toml.
install_policy() {
    install -m 0644 "/share/policies/$1.toml" /etc/governor/policy.toml
}

# reload_service: systemctl reload, which returns once governord has sent READY=1
# again (Type=notify reload protocol: RELOADING=1 ... READY=1).
reload_service() {
    timeout 60 systemctl reload governord || fail "systemctl reload governord failed: $(systemctl status governord --no-pager 2>&1 | tail -n 20)"
}

# total FIELD [CLASS]: a per-class counter of the persisted totals (totals.json; 0
# when absent). No jq/python in the guest: the JSON is flattened and the first FIELD
# after "CLASS":{ is taken (every class object has every counter).
total() {
    local v
    v=$(tr -d ' \n\t' </var/lib/governor/totals.json 2>/dev/null |
        sed -n "s/.*\"${2:-adhoc}\":{//p" | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2)
    echo "${v:-0}"
}

# start_sleeper CLASS SECONDS: starts `sleep SECONDS` with govctl exec in the
# background and prints the sleep's pid once it is in a group of CLASS.
start_sleeper() {
    govctl exec --class "$1" -- /bin/sleep "$2" </dev/null >/dev/null 2>&1 &
    local p="" end=$((SECONDS + 30)) g
    while [ -z "$p" ] && [ $SECONDS -lt $end ]; do
        for g in "$(svc_root)/$1.slice"/*/cgroup.procs; do
            [ -f "$g" ] || continue
            for q in $(cat "$g"); do
                [ "$(cat /proc/$q/comm 2>/dev/null)" = sleep ] && grep -q "$2" "/proc/$q/cmdline" 2>/dev/null && p=$q
            done
        done
        [ -n "$p" ] || sleep 0.2
    done
    echo "$p"
}
