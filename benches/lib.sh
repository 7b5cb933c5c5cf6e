# benches/lib.sh — shell functions the benchmark scripts share (sourced, not run).

# Prints "wall cpu rss_kb" for a command (exit 1, nothing found, is fine; any other failure
# is named on stderr, so that a broken row is not taken for a fast one).
timed() {
    local f code=0
    f=$(mktemp)
    /usr/bin/time -o "$f" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || code=$?
    if ((code > 1)); then
        echo "timed: exit $code: $*" >&2
    fi
    tail -1 "$f" | awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }'
    rm -f "$f"
}

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Interleaved rounds over the archive $1: each round times the floor (read + inflate every file,
# `$TS search --inflate-only`), then every command of the caller's `names` and `cmds` arrays
# (`$A` in a command is the archive), appending "name wall cpu rss floor_wall floor_cpu" rows
# to the file $2. ROUNDS rounds.
rounds() {
    local A=$1 raw=$2 r i fw fc w c m
    for ((r = 1; r <= ROUNDS; r++)); do
        read -r fw fc _ < <(timed "$TS" search "$A" --inflate-only --count --quiet)
        for i in "${!names[@]}"; do
            read -r w c m < <(timed bash -c "${cmds[$i]//\$A/$A}")
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${names[$i]}" "$w" "$c" "$m" "$fw" "$fc" >>"$raw"
        done
    done
}
