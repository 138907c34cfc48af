#!/usr/bin/env bash
# vm-suite.sh: boots a real Debian kernel (cgroup v2, every controller) under QEMU
# ONCE and runs the VM checks inside it against the binaries of a build tree.
#
#   vm-suite.sh --work DIR --checks "smoke default_policy ..." --helpers DIR
#               --governord PATH --govctl PATH [--net-live-test PATH]
#
# DIR/cache keeps the downloaded kernel package and what is extracted from it
# (reused by later runs, no network needed then); DIR/run is this run's scratch
# (disk images, serial log) and DIR/run/results gets, per check NAME,
# NAME.result ("PASS", "FAIL: why" or "SKIP: why") and NAME.log.
# Exit status: 0 when the guest ran every check and wrote its result (whatever the
# results are: each check is its own ctest test), 1 otherwise, with the serial log.
# Nothing here is ever skipped: a missing tool or kernel package is a failure.
#
# Environment: GOV_VM_KERNEL_DEB=/path/linux-image-*.deb uses that package instead
# of downloading one; GOV_VM_BOOT_TIMEOUT (seconds, default 1440) bounds the boot.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work="" checks="" helpers="" governord="" govctl="" netlive=""
while [ $# -gt 0 ]; do
    case $1 in
        --work) work=$2; shift 2 ;;
        --checks) checks=$2; shift 2 ;;
        --helpers) helpers=$2; shift 2 ;;
        --governord) governord=$2; shift 2 ;;
        --govctl) govctl=$2; shift 2 ;;
        --net-live-test) netlive=$2; shift 2 ;;
        *) echo "vm-suite.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$work" ] && [ -n "$checks" ] && [ -n "$helpers" ] || {
    echo "usage: vm-suite.sh --work DIR --checks LIST --helpers DIR --governord P --govctl P [--net-live-test P]" >&2
    exit 2
}

# The guest sees the host's / from its own root: every path must be absolute.
abs() { [ -z "$1" ] || realpath -m "$1"; }
work=$(abs "$work") helpers=$(abs "$helpers") governord=$(abs "$governord") govctl=$(abs "$govctl")

log() { printf '[vm-suite %s] %s\n' "$(date +%T)" "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

cache=$work/cache
run=$work/run
results=$run/results
boot_timeout=${GOV_VM_BOOT_TIMEOUT:-1440}
t_start=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# --- the tools the tier needs (scripts/test installs them) -------------------------
need_tool() {  # need_tool COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 ||
        die "$1 not found: install the Debian package $2 (scripts/test does)"
}
need_tool qemu-system-x86_64 qemu-system-x86
need_tool cpio cpio
need_tool dpkg-deb dpkg
need_tool xz xz-utils
need_tool timeout coreutils
PATH=$PATH:/usr/sbin:/sbin
need_tool depmod kmod
need_tool modprobe kmod
busybox=/bin/busybox
need_tool readelf binutils
# A dynamic busybox has an ELF interpreter; the initramfs has no libc for it.
[ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
    die "$busybox is missing or not static: install the Debian package busybox-static"
for c in $checks; do
    [ -f "$here/checks/$c.sh" ] || die "check script $here/checks/$c.sh does not exist"
done
for h in alloc counter forker spinner checkpoint_tool nettool; do
    [ -x "$helpers/gov_vm_$h" ] || die "helper $helpers/gov_vm_$h is not built"
done
# The guest mounts tmpfs over these (the host's / is read-only there). A tree the
# guest must see that lives under one of them (a CI clone in /tmp or /root) is kept:
# the guest binds its folder just below the hidden one back in place (gov.keep=).
keep=""
for p in "$src" "$work" "$helpers" "$governord" "$govctl" "$netlive"; do
    for hidden in /tmp /run /var/tmp /var/lib/governor /var/log /root /etc/governor; do
        case $p in
            "$hidden"/*)
                rest=${p#"$hidden"/}
                top=$hidden/${rest%%/*}
                case ",$keep," in *",$top,"*) ;; *) keep=${keep:+$keep,}$top ;; esac ;;
        esac
    done
done
[ -z "$keep" ] || log "the guest keeps $keep visible under its tmpfs folders"
# The programs under test are part of the tier: without them it is a failure.
[ -n "$governord" ] && [ -x "$governord" ] || die "governord '$governord' is not built (--governord)"
[ -n "$govctl" ] && [ -x "$govctl" ] || die "govctl '$govctl' is not built (--govctl)"

mkdir -p "$cache"

# --- the kernel: Debian's generic linux-image (it has 9p), cached ------------------
. "$src/tests/qemu-lib.sh"
qemu_kernel "$cache" "${GOV_VM_KERNEL_DEB:-}"
log "kernel $kver ($(basename "$kdeb"))"

# --- the initramfs: static busybox, the modules for virtio disks and 9p, our init ----
rm -rf "$run"
mkdir -p "$results"
# veth and nf_tables (with nfnetlink) for CRIU: its kernel feature detection creates
# a veth pair and probes nf_tables, and stops before doing anything without them.
# crc32c_generic: what nf_tables' crc32c uses under TCG (see guest/init). The sock
# diag modules let CRIU list a process's sockets; tun is one of its checks.
# The network checks: veth (a namespace joined by a veth pair), sch_fq (it honours
# the departure times the egress programs stamp), bridge and nftables with NAT and
# conntrack (private networks).
qemu_initramfs "$run/initramfs" "$busybox" "$here/guest/init" virtio_pci virtio_blk 9pnet_virtio 9p \
    crc32c_generic veth nfnetlink nf_tables unix_diag inet_diag tcp_diag udp_diag netlink_diag \
    af_packet_diag tun sch_fq bridge nft_chain_nat nft_masq nft_ct

# --- what the guest runs: written where the guest sees it (its results share) -------
{
    printf 'GOV_SRC=%q\n' "$src"
    printf 'GOV_VM_DIR=%q\n' "$here"
    printf 'GOV_RESULTS=%q\n' "$results"
    printf 'GOV_CHECKS=%q\n' "$checks"
    printf 'GOV_HELPERS=%q\n' "$helpers"
    printf 'GOVERNORD=%q\n' "$governord"
    printf 'GOVCTL=%q\n' "$govctl"
    printf 'GOV_NET_LIVE_TEST=%q\n' "$netlive"
    printf 'ASAN_OPTIONS=%q\n' "${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    printf 'UBSAN_OPTIONS=%q\n' "${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
} >"$results/config.sh"

# Two virtio disks, so "every whole disk" means more than one; a third, bigger one
# (serial govswap) is swap for the checks that need it (memory_swap,
# memory_protection) and a long read for io_weight.
truncate -s 64M "$run/disk0.img"
truncate -s 32M "$run/disk1.img"
truncate -s 512M "$run/swap.img"

# --- boot, bounded -----------------------------------------------------------------
log "booting (timeout ${boot_timeout}s): checks $checks"
qemu_boot "$run" "$boot_timeout" \
    "console=ttyS0 panic=-1 quiet cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 gov.results=$results gov.payload=$here/guest/payload.sh${keep:+ gov.keep=$keep}" \
    -m 1G \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$results,mount_tag=results,security_model=none,multidevs=remap" \
    -drive "file=$run/disk0.img,format=raw,if=virtio,cache=unsafe" \
    -drive "file=$run/disk1.img,format=raw,if=virtio,cache=unsafe" \
    -drive "file=$run/swap.img,format=raw,if=none,id=swapdisk,cache=unsafe" \
    -device "virtio-blk-pci,drive=swapdisk,serial=govswap"
booted=$(grep -m1 -o 'GOV-VM booted in [0-9.]*' "$serial" | awk '{print $4}' || true)
log "qemu exited with $qemu_rc after $(elapsed "$t_boot" "$t_end") s (kernel to init: ${booted:-?} s); setup took $(elapsed "$t_start" "$t_boot") s"
qemu_require_results "$run" "$boot_timeout" "$results" "$checks"
echo "results:"
for c in $checks; do
    printf '  %-24s %s\n' "$c" "$(head -n 1 "$results/$c.result")"
done
