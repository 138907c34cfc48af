# timeout: 60
# journalctl shows governord's structured logs: info lines at -p info, the refused
# reload and the refused exec at -p warning (the <N> prefixes are parsed into
# PRIORITY, not left in the text).
need_service
info=$(journalctl -u governord -p info --no-pager -o cat)
[ -n "$info" ] || fail "journalctl -u governord -p info shows nothing"
note "-p info: $(echo "$info" | wc -l) lines, e.g.: $(echo "$info" | head -n 3 | tr '\n' '|')"
warn=$(journalctl -u governord -p warning --no-pager -o cat)
echo "--- journalctl -u governord -p warning:"
echo "$warn"
echo "---"
[ -n "$warn" ] || fail "journalctl -u governord -p warning shows nothing (the invalid reload and bob's exec should be there)"
echo "$warn" | grep -qi 'parsecs\|invalid\|policy' || fail "the refused reload of invalid.toml is not among the warnings"
echo "$warn" | grep -qi 'refused\|denied\|not allowed' || fail "bob's refused exec is not among the warnings"
raw=$(journalctl -u governord --no-pager -o cat | grep -c '^<[0-7]>' || true)
expect_eq "lines with an unparsed <N> prefix" "$raw" 0
prios=$(journalctl -u governord --no-pager -o json | grep -o '"PRIORITY":"[0-7]"' | sort | uniq -c | tr '\n' ' ')
note "priorities: $prios"
