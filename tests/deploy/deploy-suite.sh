#!/usr/bin/env bash
# deploy-suite.sh: the deployment tier. Builds the Debian package (scripts/package),
# boots a Debian bookworm guest with systemd as PID 1 under QEMU ONCE, installs the
# package there and runs the deployment checks against the real governord.service.
#
#   deploy-suite.sh --work DIR --checks "install ready ..."
#
# DIR/cache keeps the kernel package, what is extracted from it and the guest image
# (bookworm-<hash>.ext4, see make-image.sh): later runs need no network. DIR/package
# keeps the .deb (rebuilt only when the sources change). DIR/run is this run's
# scratch; DIR/run/share is the guest's /share (9p): the packages, the checks, and
# results/ with, per check NAME, NAME.result ("PASS", "FAIL: why", "SKIP: why"),
# NAME.log and NAME.time, plus governord.journal.
# Exit status: 0 when the guest ran every check and wrote its result (each check is
# its own ctest test), 1 otherwise, with the serial log. Nothing is ever skipped: a
# missing tool, kernel or mirror is a failure that says what is missing.
#
# Environment: GOV_DEPLOY_KERNEL_DEB=/path/linux-image-*.deb uses that kernel package;
# GOV_DEPLOY_DEB=/path/governor_*.deb tests that package instead of building one;
# GOV_DEPLOY_TIMEOUT (seconds, default 900) bounds the guest; GOV_DEPLOY_MIRROR
# overrides the Debian mirror (default: the one apt uses).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work="" checks=""
while [ $# -gt 0 ]; do
    case $1 in
        --work) work=$2; shift 2 ;;
        --checks) checks=$2; shift 2 ;;
        *) echo "deploy-suite.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$work" ] && [ -n "$checks" ] || {
    echo "usage: deploy-suite.sh --work DIR --checks LIST" >&2
    exit 2
}

log() { printf '[deploy-suite %s] %s\n' "$(date +%T)" "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
t_start=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "the deployment tier needs root (debootstrap, mkfs.ext4 -d of a root tree, dpkg-buildpackage deps)"
PATH=$PATH:/usr/sbin:/sbin
# What this tier needs beyond scripts/test's packages (debootstrap) is installed here,
# with the same helper (apt, only what is missing).
. "$src/scripts/lib.sh"
gov_ensure_packages debootstrap qemu-system-x86 busybox-static cpio kmod e2fsprogs xz-utils zstd \
    binutils >&2 || die "installing the tier's Debian packages failed"
need_tool() {  # need_tool COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 ||
        die "$1 not found: install the Debian package $2 (scripts/test does)"
}
need_tool qemu-system-x86_64 qemu-system-x86
need_tool debootstrap debootstrap
need_tool mkfs.ext4 e2fsprogs
need_tool cpio cpio
need_tool dpkg-deb dpkg
need_tool xz xz-utils
need_tool modprobe kmod
need_tool depmod kmod
need_tool readelf binutils
busybox=/bin/busybox
[ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
    die "$busybox is missing or not static: install the Debian package busybox-static"
for c in $checks; do
    [ -f "$here/checks/$c.sh" ] || die "check script $here/checks/$c.sh does not exist"
done

cache=$work/cache
run=$work/run
share=$run/share
results=$share/results
timeout_s=${GOV_DEPLOY_TIMEOUT:-900}
mkdir -p "$cache"

# --- the package under test, and a "next version" of it for the upgrade check -------
if [ -n "${GOV_DEPLOY_DEB:-}" ]; then
    deb=$GOV_DEPLOY_DEB
    [ -f "$deb" ] || die "GOV_DEPLOY_DEB=$deb does not exist"
else
    log "building the package (scripts/package --reuse: only when the sources changed)"
    t0=$(date +%s.%N)
    "$src/scripts/package" --output "$work/package" --reuse --no-lintian >"$work/package.log" 2>&1 || {
        tail -n 40 "$work/package.log"
        die "scripts/package failed (log: $work/package.log)"
    }
    deb=$(ls -1 "$work/package"/governor_*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || die "scripts/package left no governor_*.deb in $work/package"
    log "package ready in $(elapsed "$t0" "$(date +%s.%N)") s: $(basename "$deb")"
fi
version=$(dpkg-deb -f "$deb" Version)

# --- the kernel: Debian's generic linux-image, cached (as the VM tier does) ----------
. "$src/tests/qemu-lib.sh"
qemu_kernel "$cache" "${GOV_DEPLOY_KERNEL_DEB:-}" "$work/../vm/cache"
log "kernel $kver ($(basename "$kdeb"))"

# --- the guest image: bookworm + systemd + the package's run-time dependencies -------
# The dependencies come from the .deb itself (first alternative, version constraints
# dropped), so the image follows the package; make-image.sh keys its cache on them.
# debootstrap cannot resolve virtual packages (libspdlog1.10-fmt9 is provided by
# libspdlog1.10): apt on this host names the real one.
real_package() {
    # A real package has a stanza; a virtual one only reverse provides. (When apt's
    # lists are being rewritten by a concurrent `apt-get update`, both come back
    # empty and the caller fails with the name.)
    # (The output is captured first: with pipefail, grep -q closing the pipe early
    # makes apt-cache die of SIGPIPE and the test false.)
    local stanza
    stanza=$(apt-cache show --no-all-versions "$1" 2>/dev/null || true)
    if printf '%s\n' "$stanza" | grep -q '^Package:'; then
        echo "$1"
    else
        apt-cache showpkg "$1" 2>/dev/null | sed -n '/^Reverse Provides:/{n;p;q}' | awk '{print $1}'
    fi
}
depends=""
for p in $( { dpkg-deb -f "$deb" Depends; dpkg-deb -f "$deb" Pre-Depends; } | tr '\n' ',' | tr ',' '\n' |
    sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' | grep -v '^$' | sort -u); do
    r=$(real_package "$p")
    [ -n "$r" ] || die "the package depends on $p, which apt here cannot resolve to a real package"
    depends="$depends $r"
done
t0=$(date +%s.%N)
image=$("$here/make-image.sh" --cache "$cache" --packages "systemd systemd-sysv dbus udev kmod $depends") ||
    die "building the guest image failed (see above)"
log "image $(basename "$image") ready in $(elapsed "$t0" "$(date +%s.%N)") s (packages: $depends)"

# --- the initramfs: static busybox, the modules for virtio disks, ext4 and 9p --------
rm -rf "$run"
mkdir -p "$results"
qemu_initramfs "$run/initramfs" "$busybox" "$here/guest/init" \
    virtio_pci virtio_blk crc32c_generic ext4 9pnet_virtio 9p

# --- the share: packages, checks, policies, config -----------------------------------
cp "$deb" "$share/"
# The upgrade check installs "the next version": the same package with its version
# bumped (repacked with dpkg-deb), so that dpkg runs the real upgrade path of the
# maintainer scripts without a second build.
next_version="${version}+deploytest1"
rm -rf "$run/next"
dpkg-deb -R "$deb" "$run/next"
sed -i "s/^Version: .*/Version: $next_version/" "$run/next/DEBIAN/control"
dpkg-deb --root-owner-group -Zxz -b "$run/next" "$share/governor_${next_version}_next.deb" >/dev/null ||
    die "repacking $deb as version $next_version failed"
rm -rf "$run/next"
cp -r "$here/guest" "$here/checks" "$here/policies" "$share/"
{
    printf 'GOV_CHECKS=%q\n' "$checks"
    printf 'GOV_DEB=%q\n' "$(basename "$deb")"
    printf 'GOV_DEB_NEXT=%q\n' "governor_${next_version}_next.deb"
} >"$share/config.sh"
cp "$here/guest/payload.sh" "$share/payload.sh"

# --- boot, bounded ---------------------------------------------------------------------
# -snapshot: the guest writes to a temporary overlay, the cached image stays pristine.
log "booting (timeout ${timeout_s}s): checks $checks"
qemu_boot "$run" "$timeout_s" \
    "console=ttyS0 panic=-1 quiet cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 systemd.show_status=error" \
    -m 1536M -snapshot \
    -drive "file=$image,format=raw,if=virtio,cache=unsafe" \
    -virtfs "local,path=$share,mount_tag=share,security_model=none,multidevs=remap"
payload_at=$(grep -m1 -o 'GOV-DEPLOY payload started [0-9.]*' "$serial" | awk '{print $4}' || true)
log "qemu exited with $qemu_rc after $(elapsed "$t_boot" "$t_end") s (systemd reached the payload ${payload_at:-?} s after boot); setup took $(elapsed "$t_start" "$t_boot") s"
qemu_require_results "$run" "$timeout_s" "$results" "$checks"
echo "results:"
for c in $checks; do
    printf '  %-16s %-60s %s\n' "$c" "$(head -n 1 "$results/$c.result")" "$(cat "$results/$c.time" 2>/dev/null)"
done
log "total $(elapsed "$t_start" "$(date +%s.%N)") s"
