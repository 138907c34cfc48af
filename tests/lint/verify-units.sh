#!/usr/bin/env bash
# verify-units.sh SOURCE_DIR GOVERNORD: `systemd-analyze verify` of the shipped units
# (packaging/governord.service, debian/governor.governor-root.service as the package
# installs it) says nothing: no unknown setting, no missing dependency, no
# Documentation= man page that the package does not ship. Exits 1 with what it said.
#
# The units are verified unmodified against this host's systemd. Their ExecStart=
# binary (/usr/sbin/governord) is not installed here, so the check runs in a private
# mount namespace where an overlay on /usr/sbin adds the build tree's governord;
# the host's /usr/sbin is never written. Man pages are looked up in a MANPATH that
# holds only the pages the package ships (packaging/man), so a reference to a page
# that does not exist there (man:govctl(8) when the page is govctl(1)) fails.
set -uo pipefail
src=$1 governord=$2
for tool in systemd-analyze man unshare; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (Debian packages systemd, man-db, util-linux)"; exit 1; }
done
[ -x "$governord" ] || { echo "FAIL: governord $governord is not built"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (a private mount namespace for the overlay on /usr/sbin)"; exit 1; }
work=$(mktemp -d /tmp/gov-verify-units-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/units" "$work/man/man1" "$work/man/man8" "$work/upper" "$work/work"
cp "$src/packaging/governord.service" "$work/units/governord.service"
# dh_installsystemd --name=governor-root installs this file as governor-root.service.
cp "$src/debian/governor.governor-root.service" "$work/units/governor-root.service"
for page in "$src"/packaging/man/*.[0-9]; do
    sec=${page##*.}
    mkdir -p "$work/man/man$sec"
    cp "$page" "$work/man/man$sec/"
done
cp "$governord" "$work/upper/governord"
out=$(MANPATH=$work/man unshare --mount --propagation private sh -c '
    mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$1/upper,workdir=$1/work" /usr/sbin ||
        { echo "overlay on /usr/sbin failed"; exit 2; }
    systemd-analyze verify --man=yes "$1/units/governord.service" "$1/units/governor-root.service"
' sh "$work" 2>&1)
rc=$?
echo "systemd-analyze verify governord.service governor-root.service: exit $rc"
[ -z "$out" ] || echo "$out"
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL: the shipped units are not clean (see above)"
    exit 1
fi
echo "PASS: systemd-analyze verify is clean on the shipped units ($(systemd-analyze --version | head -n 1))"
