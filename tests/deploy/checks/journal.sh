# timeout: 60
# The journal has governord's structured logs: info lines at -p info, the refused
# reload and the refused exec at -p warning (the <N> prefixes are parsed into
# PRIORITY, not left in the text), and `journalctl -u governord` shows all of them.
need_service
all=$(journalctl -t governord --no-pager -o cat)
[ -n "$all" ] || fail "journalctl -t governord shows nothing"
info=$(journalctl -t governord -p info --no-pager -o cat)
note "-p info: $(echo "$info" | wc -l) lines, e.g.: $(echo "$info" | head -n 3 | tr '\n' '|')"
warn=$(journalctl -t governord -p warning --no-pager -o cat)
echo "--- journalctl -t governord -p warning:"
echo "$warn"
echo "---"
raw=$(echo "$all" | grep -c '^<[0-7]>' || true)
expect_eq "lines with an unparsed <N> prefix" "$raw" 0
prios=$(journalctl -t governord --no-pager -o json | grep -o '"PRIORITY":"[0-7]"' | sort | uniq -c | tr '\n' ' ')
note "priorities: $prios"
units=$(journalctl -t governord --no-pager -o json | grep -o '"_SYSTEMD_UNIT":"[^"]*"' | sort | uniq -c | tr '\n' ' ')
note "units the lines are attributed to: $units"
[ -n "$warn" ] || fail "journalctl -t governord -p warning shows nothing (the invalid reload and bob's exec should be there)"
echo "$warn" | grep -qi 'parsecs\|invalid\|policy' || fail "the refused reload of invalid.toml is not among the warnings"
echo "$warn" | grep -qi 'refused\|denied\|not allowed\|may not' || fail "bob's refused exec is not among the warnings"
n_t=$(echo "$all" | wc -l)
# Counted from the JSON: combining -u and -t in one journalctl does not AND them
# (-u expands to a disjunction, -t only narrows its last term).
n_u=$(journalctl -u governord --no-pager -o json | grep -c '"SYSLOG_IDENTIFIER":"governord"' || true)
[ "$n_u" -eq "$n_t" ] || fail "journalctl -u governord shows $n_u of governord's $n_t lines; the rest are attributed to other units ($units): journald attributes a line to the unit of the sender's current cgroup, and governord moves itself into governor-root's cgroup"
