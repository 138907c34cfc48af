#!/usr/bin/env bash
# check-format.sh SOURCE_DIR: every C and C++ file of the project (the files git
# tracks, plus new ones not ignored) is exactly what clang-format 14 makes of it with
# the checked-in .clang-format. Lists each file that is not, with the first lines of
# the difference, and exits 1; a missing clang-format is a failure, never a skip.
# Fix: clang-format-14 -i FILE...
set -uo pipefail
src=$1
fmt=$(command -v clang-format-14 || true)
[ -n "$fmt" ] || { echo "FAIL: clang-format-14 not found (Debian package clang-format)"; exit 1; }
[ -f "$src/.clang-format" ] || { echo "FAIL: no $src/.clang-format"; exit 1; }
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git -C "$src" ls-files --cached --others --exclude-standard \
        -- '*.cpp' '*.hpp' '*.c' '*.h' | sort -u)
else
    # A source tree without git (an unpacked tarball): every file but build trees.
    mapfile -t files < <(cd "$src" && find . -path ./build -prune -o -path './obj-*' -prune -o \
        -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' \) -print |
        sed 's|^\./||' | sort)
fi
[ "${#files[@]}" -gt 0 ] || { echo "FAIL: no C/C++ files found under $src"; exit 1; }
bad=0
for f in "${files[@]}"; do
    [ -f "$src/$f" ] || continue  # deleted in the work tree, not yet in the index
    if ! out=$(cd "$src" && "$fmt" --style=file "$f" | diff -u "$f" - 2>&1); then
        echo "not formatted: $f"
        echo "$out" | sed -n '3,14p' | sed 's/^/    /'
        bad=$((bad + 1))
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "FAIL: $bad of ${#files[@]} files are not clang-format clean; run: clang-format-14 -i FILE..."
    exit 1
fi
echo "PASS: ${#files[@]} files are clang-format clean ($("$fmt" --version))"
