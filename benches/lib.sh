# benches/lib.sh — shell functions the benchmark scripts share (sourced, not run).

# Prints "wall cpu rss_kb" for a command (exit 1, nothing found, is fine).
timed() {
    local f
    f=$(mktemp)
    /usr/bin/time -o "$f" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
    tail -1 "$f" | awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }'
    rm -f "$f"
}

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
