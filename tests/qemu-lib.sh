# What the two QEMU tiers (tests/vm/vm-suite.sh, tests/deploy/deploy-suite.sh) share:
# the guest kernel, the initramfs, the bounded boot and the check for every result.
# Sourced; the caller defines log() and die() (die exits) and has checked the tools
# (dpkg-deb, depmod/modprobe, xz, cpio, qemu-system-x86_64).

# Prints the versioned image package linux-image-amd64 depends on ("" when apt's
# lists do not know it).
qemu_resolve_kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

# qemu_fetch_kernel_deb CACHE OVERRIDE [OTHER_CACHE]: prints the path of Debian's
# generic kernel package (it has 9p): OVERRIDE when set, else the newest one in
# CACHE, else one copied from OTHER_CACHE (the other tier's cache of the same build
# tree), else `apt-get download` into CACHE (with one `apt-get update` when the
# lists do not know it or the download fails).
qemu_fetch_kernel_deb() {
    local cache=$1 override=$2 other=${3:-} deb pkg
    if [ -n "$override" ]; then
        [ -f "$override" ] || die "the kernel package $override does not exist"
        echo "$override"
        return
    fi
    deb=$(ls -1 "$cache"/linux-image-[0-9]*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ] && [ -n "$other" ]; then
        deb=$(ls -1 "$other"/linux-image-[0-9]*.deb 2>/dev/null | sort -V | tail -n 1 || true)
        if [ -n "$deb" ]; then
            cp "$deb" "$cache/"
            deb=$cache/$(basename "$deb")
        fi
    fi
    if [ -n "$deb" ]; then
        echo "$deb"
        return
    fi
    pkg=$(qemu_resolve_kernel_package)
    if [ -z "$pkg" ]; then
        log "apt does not know linux-image-amd64: running apt-get update" >&2
        apt-get update -qq >&2 || die "apt-get update failed: cannot fetch the guest kernel"
        pkg=$(qemu_resolve_kernel_package)
    fi
    [ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package (apt lists?)"
    log "downloading $pkg into $cache" >&2
    if ! (cd "$cache" && apt-get download "$pkg" >&2 2>"$cache/apt-download.log"); then
        log "apt-get download failed; running apt-get update and retrying" >&2
        apt-get update -qq >&2 || true
        (cd "$cache" && apt-get download "$pkg" >&2) ||
            die "apt-get download $pkg failed: no guest kernel"
    fi
    deb=$(ls -1 "$cache"/"$pkg"_*.deb 2>/dev/null | tail -n 1 || true)
    [ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache"
    echo "$deb"
}

# qemu_kernel CACHE OVERRIDE [OTHER_CACHE]: the kernel, unpacked once per package
# into CACHE/<package>/ (root/ with depmod run, vmlinux, version). Sets kdeb, kdir
# and kver.
qemu_kernel() {
    kdeb=$(qemu_fetch_kernel_deb "$@")
    kdir=$1/$(basename "$kdeb" .deb)
    if [ ! -f "$kdir/.complete" ]; then
        log "unpacking $(basename "$kdeb")"
        rm -rf "$kdir"
        mkdir -p "$kdir"
        dpkg-deb -x "$kdeb" "$kdir/root" || die "dpkg-deb -x $kdeb failed"
        kver=$(ls -1 "$kdir/root/lib/modules" | head -n 1)
        [ -n "$kver" ] || die "$kdeb has no lib/modules/<version>"
        depmod -b "$kdir/root" "$kver" || die "depmod for $kver failed"
        # Boot the uncompressed vmlinux (PVH entry) rather than the xz bzImage: under
        # TCG the decompressor alone costs ~7 s per boot (measured: 4.0 s against
        # 11.7 s to a shell). This is the kernel's scripts/extract-vmlinux logic for xz.
        local bz=$kdir/root/boot/vmlinuz-$kver off
        off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1)
        [ -n "$off" ] || die "no xz stream found in $bz"
        tail -c +$((off + 1)) "$bz" | xz -dc >"$kdir/vmlinux" 2>/dev/null || true  # trailing data
        if [ "$(head -c 4 "$kdir/vmlinux" | od -An -c | tr -d ' ')" != '177ELF' ]; then
            log "could not extract vmlinux from $bz; booting the bzImage"
            cp "$bz" "$kdir/vmlinux"
        fi
        echo "$kver" >"$kdir/version"
        touch "$kdir/.complete"
    fi
    kver=$(cat "$kdir/version")
}

# qemu_initramfs DIR BUSYBOX INIT MODULE...: a gzip'd cpio at DIR.cpio.gz holding
# the static BUSYBOX, INIT as /init and the modules (with what they depend on, in
# load order, decompressed; their names in /lib/modules/order) of the kernel that
# qemu_kernel set up. DIR is the staging folder, made anew.
qemu_initramfs() {
    local ir=$1 busybox=$2 init=$3 mods m
    shift 3
    rm -rf "$ir"
    mkdir -p "$ir"/{bin,dev,proc,sys,newroot,lib/modules}
    cp "$busybox" "$ir/bin/busybox"
    cp "$init" "$ir/init"
    chmod 755 "$ir/init"
    mods=$(modprobe -d "$kdir/root" -S "$kver" --show-depends -a "$@" |
        awk '$1 == "insmod" && !seen[$2]++ {print $2}')
    [ -n "$mods" ] || die "modprobe could not resolve the modules $* of $kver"
    for m in $mods; do
        case $m in
            *.ko) cp "$m" "$ir/lib/modules/" ;;
            *.ko.xz) xz -dc "$m" >"$ir/lib/modules/$(basename "$m" .xz)"; m=${m%.xz} ;;
            *.ko.zst) zstd -qdc "$m" >"$ir/lib/modules/$(basename "$m" .zst)"; m=${m%.zst} ;;
            *) die "unexpected module file $m" ;;
        esac
        basename "$m" >>"$ir/lib/modules/order"
    done
    (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1 >"$ir.cpio.gz") ||
        die "building the initramfs failed"
}

# qemu_boot RUN TIMEOUT APPEND QEMU_ARG...: boots the kernel and initramfs made above
# under TCG (q35, 2 CPUs, the serial console in RUN/serial.log, QEMU's own output in
# RUN/qemu.log) with the kernel command line APPEND and the tier's own arguments
# (memory, disks, shares), killed after TIMEOUT seconds. Sets serial, qemu_rc, t_boot
# and t_end; never fails by itself (see qemu_require_results).
qemu_boot() {
    local run=$1 timeout_s=$2 append=$3
    shift 3
    serial=$run/serial.log
    : >"$serial"
    local cmd=(
        qemu-system-x86_64 -accel tcg,thread=multi -machine q35 -smp 2
        -display none -no-reboot -nodefaults -monitor none
        -serial "file:$serial"
        -kernel "$kdir/vmlinux" -initrd "$run/initramfs.cpio.gz"
        -append "$append"
        "$@"
    )
    t_boot=$(date +%s.%N)
    set +e
    timeout --kill-after=10 "$timeout_s" "${cmd[@]}" </dev/null >"$run/qemu.log" 2>&1
    qemu_rc=$?
    set -e
    t_end=$(date +%s.%N)
}

# Prints the end of the serial log and QEMU's own output.
qemu_show_serial() {
    local run=$1 lines=$2
    echo "----- serial log ($serial, last $lines lines) -----"
    tail -n "$lines" "$serial" | tr -d '\r'
    echo "----- end of serial log -----"
    if [ -s "$run/qemu.log" ]; then
        echo "----- qemu stderr -----"
        cat "$run/qemu.log"
    fi
}

# qemu_require_results RUN TIMEOUT RESULTS CHECKS: dies, showing the serial log, when
# the guest was killed at TIMEOUT (hung) or stopped before writing RESULTS/suite.done
# and RESULTS/<check>.result for every check in CHECKS.
qemu_require_results() {
    local run=$1 timeout_s=$2 results=$3 checks=$4 c missing=""
    if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
        qemu_show_serial "$run" 400
        die "the guest did not finish within ${timeout_s}s (hung?); killed"
    fi
    for c in $checks; do
        [ -f "$results/$c.result" ] || missing="$missing $c"
    done
    if [ ! -f "$results/suite.done" ] || [ -n "$missing" ]; then
        qemu_show_serial "$run" 400
        die "the guest stopped before finishing (qemu exit $qemu_rc); no result for:${missing:- (suite.done missing)}"
    fi
}
