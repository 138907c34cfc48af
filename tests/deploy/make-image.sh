#!/usr/bin/env bash
# make-image.sh: the deployment tier's guest disk, a Debian bookworm root with
# systemd as PID 1, built once with debootstrap and cached.
#
#   make-image.sh --cache DIR --packages "pkg1 pkg2 ..."     prints the image path
#
# The image is DIR/bookworm-<hash>.ext4 where <hash> covers the package list and this
# script: the same list reuses the image offline; a new list (say the package gained a
# dependency) builds a new one. debootstrap downloads from the Debian mirror apt
# already uses here (read from /etc/apt/sources.list and sources.list.d), nothing else.
# GOV_DEPLOY_MIRROR=URL overrides the mirror.
#
# What is in it besides the packages: an empty fstab (the initramfs mounts the root
# read-write and the test share), a machine id, units masked that only cost boot time
# (gettys, udev coldplug, timers), and gov-deploy.service, which runs
# /share/payload.sh once the system is up and powers the machine off afterwards.
set -euo pipefail

cache="" packages=""
while [ $# -gt 0 ]; do
    case $1 in
        --cache) cache=$2; shift 2 ;;
        --packages) packages=$2; shift 2 ;;
        *) echo "make-image.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -n "$cache" ] && [ -n "$packages" ] || {
    echo "usage: make-image.sh --cache DIR --packages LIST" >&2
    exit 2
}
log() { printf '[make-image %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

PATH=$PATH:/usr/sbin:/sbin
command -v debootstrap >/dev/null || die "debootstrap not found: install the Debian package debootstrap"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found: install the Debian package e2fsprogs"

# Sorted and unique, so that the order in which callers list packages does not matter.
packages=$(printf '%s\n' $packages | sort -u | tr '\n' ' ')
packages=${packages% }
key=$( { printf '%s\n' "$packages"; cat "$0"; } | sha256sum | cut -c1-16)
image=$cache/bookworm-$key.ext4
if [ -f "$image" ] && [ -f "$image.complete" ]; then
    echo "$image"
    exit 0
fi

# The mirror apt uses for bookworm (deb822 .sources first, then one-line lists).
find_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             {
                 uri = ""; ok = 0
                 for (i = 1; i <= NF; i++) {
                     if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
                     if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
                 }
                 if (ok && uri != "") { print uri; exit }
             }' "$f"
    done | head -n 1
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $0 !~ /\[/ && $3 == "bookworm" { print $2; exit }
             $1 == "deb" && $0 ~ /\[/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { if ($(i+1) == "bookworm") { print $i; exit } } }'
}
mirror=${GOV_DEPLOY_MIRROR:-$(find_mirror 2>/dev/null | head -n 1 || true)}
[ -n "$mirror" ] || die "no bookworm mirror found in /etc/apt/sources.list{,.d}; set GOV_DEPLOY_MIRROR"

mkdir -p "$cache"
tree=$cache/tree-$key
rm -rf "$tree" "$image" "$image.complete"
include=$(echo "$packages" | tr ' ' ',')
log "debootstrap bookworm from $mirror (minbase + $include)"
t0=$(date +%s)
if ! debootstrap --variant=minbase --include="$include" bookworm "$tree" "$mirror" \
        >"$cache/debootstrap-$key.log" 2>&1; then
    tail -n 30 "$cache/debootstrap-$key.log" >&2
    die "debootstrap --variant=minbase --include=$include bookworm $tree $mirror failed (log: $cache/debootstrap-$key.log)"
fi
log "debootstrap took $(($(date +%s) - t0)) s"

# Root's filesystem and the share are mounted by the initramfs (see make-initramfs in
# deploy-suite.sh); nothing for systemd to mount or fsck.
: >"$tree/etc/fstab"
echo deploy-guest >"$tree/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 deploy-guest\n' >"$tree/etc/hosts"
rm -f "$tree/etc/machine-id"
chroot "$tree" systemd-machine-id-setup >/dev/null
# Boot-only costs with no use here: login prompts, udev coldplug (the disks are found
# by the initramfs), periodic timers, first-boot questions.
for u in getty@tty1.service serial-getty@ttyS0.service console-getty.service \
         systemd-udev-trigger.service systemd-udev-settle.service systemd-firstboot.service \
         apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer \
         systemd-hwdb-update.service ldconfig.service; do
    ln -sf /dev/null "$tree/etc/systemd/system/$u"
done
# The test driver: runs the payload from the share once the system is up; whatever
# happens, the machine powers off afterwards (the host bounds all of it with timeout).
cat >"$tree/etc/systemd/system/gov-deploy.service" <<'UNIT'
[Unit]
Description=Governor deployment test payload
After=multi-user.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/bash /share/payload.sh
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/gov-deploy.service \
    "$tree/etc/systemd/system/multi-user.target.wants/gov-deploy.service"
mkdir -p "$tree/share"
# Smaller image: the package cache is not needed in the guest.
rm -rf "$tree"/var/cache/apt/archives/*.deb

log "mkfs.ext4 -d (2 GiB, sparse)"
truncate -s 2G "$image.tmp"
mkfs.ext4 -q -F -L deployroot -d "$tree" "$image.tmp" || die "mkfs.ext4 -d $tree failed"
mv "$image.tmp" "$image"
rm -rf "$tree"
touch "$image.complete"
log "image $image ready"
echo "$image"
