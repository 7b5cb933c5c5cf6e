#!/usr/bin/env bash
# `trailscan timeline` with every built-in rule over the bench archive, against the
# decompression floor and `audit` with the same rules, in interleaved rounds (a shared machine
# drifts: ratios are taken within a round). Peak RSS from GNU time.
#
#   benches/timeline.sh [ARCHIVE]      (default: $BENCH_DIR or target/bench-archive)
#   ROUNDS=5 TS=target/release/trailscan benches/timeline.sh /work/bench-archive
#
# Prints one line per round (wall and CPU seconds, peak RSS, the CPU ratios to the floor) and
# the median CPU ratios. The timeline goes to target/bench-results/timeline.jsonl.
set -euo pipefail
DIR=${1:-${BENCH_DIR:-target/bench-archive}}
ROUNDS=${ROUNDS:-3}
TS=${TS:-target/release/trailscan}
OUT=${RESULTS_DIR:-target/bench-results}
mkdir -p "$OUT"
[ -x "$TS" ] || cargo build --release
T="$OUT/timeline-time.txt"
tl=()
au=()
# Runs a command under GNU time, its output to FILE; prints "wall cpu rss_kb".
measure() {
    local file=$1
    shift
    /usr/bin/time -o "$T" -f '%e %U %S %M' "$@" > "$file" 2> "$OUT/timeline-stderr.txt" || true
    tail -1 "$T" | awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }'
}
for r in $(seq 1 "$ROUNDS"); do
    read -r fw fc fk < <(measure /dev/null "$TS" search "$DIR" --inflate-only --count --quiet)
    read -r tw tc tk < <(measure "$OUT/timeline.jsonl" "$TS" timeline "$DIR" --format jsonl --quiet)
    read -r aw ac ak < <(measure "$OUT/timeline-audit.jsonl" "$TS" audit "$DIR" --format jsonl --quiet)
    t=$(awk -v a="$tc" -v f="$fc" 'BEGIN { printf "%.2f", a / f }')
    a=$(awk -v a="$ac" -v f="$fc" 'BEGIN { printf "%.2f", a / f }')
    tl+=("$t")
    au+=("$a")
    echo "round $r: floor ${fw}s wall ${fc}s CPU; timeline ${tw}s wall ${tc}s CPU ${tk} KB peak RSS (CPU ${t}x);" \
        "audit ${aw}s wall ${ac}s CPU ${ak} KB (CPU ${a}x)"
done
med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { printf "%s (min %s, max %s)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }
echo "median CPU ratio to the floor over $ROUNDS rounds: timeline $(med "${tl[@]}"), audit $(med "${au[@]}")"
echo "timeline rows: $(wc -l < "$OUT/timeline.jsonl"); audit findings: $(wc -l < "$OUT/timeline-audit.jsonl")"
