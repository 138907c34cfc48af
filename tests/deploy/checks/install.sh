# timeout: 180
# dpkg -i installs the package and its maintainer scripts enable and start
# governord.service (dh_installsystemd); every packaged file is where it belongs.
deb=/share/$GOV_DEB
[ -f "$deb" ] || fail "no package $deb in the share"
# The users of the exec checks exist before any policy names them.
useradd -m -s /bin/bash alice || fail "useradd alice failed"
useradd -m -s /bin/bash bob || fail "useradd bob failed"
dpkg -i "$deb" || fail "dpkg -i $(basename "$deb") failed"
dpkg-query -W -f='${Status} ${Version}\n' governor
for f in /usr/sbin/governord /usr/bin/govctl /lib/systemd/system/governord.service /lib/systemd/system/governor-root.service \
         /usr/share/man/man8/governord.8.gz /usr/share/man/man1/govctl.1.gz \
         /usr/share/governor/grafana/governor.json \
         /usr/share/doc/governor/examples/policy.toml.example /usr/share/doc/governor/copyright; do
    [ -e "$f" ] || fail "the package did not install $f"
done
ls /usr/share/dbus-1/system.d/ | grep -qi governor || fail "no D-Bus policy for Governor in /usr/share/dbus-1/system.d"
[ -e /usr/share/bash-completion/completions/govctl ] || fail "no bash completion for govctl"
note "files in place: $(dpkg -L governor | wc -l) paths"
[ -d /etc/governor ] || note "/etc/governor does not exist before the first start"
expect_eq "systemctl is-enabled governord" "$(systemctl is-enabled governord 2>&1)" enabled
wait_until 60 svc_active || fail "governord did not become active after install: $(systemctl status governord --no-pager 2>&1 | tail -n 20)"
note "active after install"
# The installed units, as this systemd reads them (the man pages the units name are
# checked on the build host by lint.systemd_units; minbase has no man-db).
verify=$(systemd-analyze verify --man=no governord.service governor-root.service 2>&1)
[ -z "$verify" ] || fail "systemd-analyze verify of the installed units: $verify"
note "systemd-analyze verify: clean"
