#!/usr/bin/env bash
# Sigma rules over the bench archive, against the decompression floor, in interleaved rounds
# (a shared machine drifts: ratios are taken within a round). Peak RSS from GNU time.
#
#   benches/sigma.sh [ARCHIVE]      (default: $BENCH_DIR or target/bench-archive)
#   ROUNDS=5 RULES=benches/sigma TS=target/release/trailscan benches/sigma.sh /work/bench-archive
#
# Prints one line per round (wall and CPU seconds of both, audit peak RSS, the ratios) and
# the median ratios (CPU time is steadier than wall time on a shared machine). The audit's findings go to target/bench-results/sigma-findings.jsonl.
set -euo pipefail
DIR=${1:-${BENCH_DIR:-target/bench-archive}}
ROUNDS=${ROUNDS:-5}
RULES=${RULES:-benches/sigma}
TS=${TS:-target/release/trailscan}
OUT=${RESULTS_DIR:-target/bench-results}
mkdir -p "$OUT"
[ -x "$TS" ] || cargo build --release
ratios=()
cpu=()
T="$OUT/sigma-time.txt"
for r in $(seq 1 "$ROUNDS"); do
    /usr/bin/time -o "$T" -f '%e %U %S %M' "$TS" search "$DIR" --inflate-only --count --quiet > /dev/null || true
    read -r fs fu fsys fk < <(tail -1 "$T")
    /usr/bin/time -o "$T" -f '%e %U %S %M' "$TS" audit "$DIR" --sigma "$RULES" --format jsonl --quiet \
        > "$OUT/sigma-findings.jsonl" 2> "$OUT/sigma-stderr.txt" || true
    read -r as au asys ak < <(tail -1 "$T")
    ratio=$(awk -v a="$as" -v f="$fs" 'BEGIN { printf "%.2f", a / f }')
    cratio=$(awk -v a="$au" -v b="$asys" -v f="$fu" -v g="$fsys" 'BEGIN { printf "%.2f", (a + b) / (f + g) }')
    ratios+=("$ratio")
    cpu+=("$cratio")
    echo "round $r: floor ${fs}s wall, $(awk -v a="$fu" -v b="$fsys" 'BEGIN{print a+b}')s CPU, ${fk} KB;" \
        "audit --sigma ${as}s wall, $(awk -v a="$au" -v b="$asys" 'BEGIN{print a+b}')s CPU, ${ak} KB peak RSS;" \
        "wall ratio ${ratio}, CPU ratio ${cratio}"
done
printf '%s\n' "${cpu[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median CPU ratio %s (min %s, max %s)\n", a[int((NR + 1) / 2)], a[1], a[NR] }'
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median wall ratio %s (min %s, max %s) over %d rounds\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'
echo "findings: $(wc -l < "$OUT/sigma-findings.jsonl")"
