#!/usr/bin/env bash
# Sigma rules over the bench archive, against the decompression floor, in interleaved rounds
# (a shared machine drifts: ratios are taken within a round). Peak RSS from GNU time.
#
#   benches/sigma.sh [ARCHIVE]      (default: $BENCH_DIR or target/bench-archive)
#   ROUNDS=5 RULES=benches/sigma TS=target/release/trailscan benches/sigma.sh /work/bench-archive
#
# Prints one line per round (floor seconds, audit seconds, ratio, audit peak RSS) and the
# median ratio. The audit's findings go to target/bench-results/sigma-findings.jsonl.
set -euo pipefail
DIR=${1:-${BENCH_DIR:-target/bench-archive}}
ROUNDS=${ROUNDS:-5}
RULES=${RULES:-benches/sigma}
TS=${TS:-target/release/trailscan}
OUT=${RESULTS_DIR:-target/bench-results}
mkdir -p "$OUT"
[ -x "$TS" ] || cargo build --release
ratios=()
for r in $(seq 1 "$ROUNDS"); do
    read -r fs fk < <( { /usr/bin/time -f '%e %M' "$TS" search "$DIR" --inflate-only --count --quiet > /dev/null; } 2>&1 | tail -1)
    read -r as ak < <( { /usr/bin/time -f '%e %M' "$TS" audit "$DIR" --sigma "$RULES" --format jsonl --quiet > "$OUT/sigma-findings.jsonl" 2> "$OUT/sigma-stderr.txt"; } 2>&1 | tail -1)
    ratio=$(awk -v a="$as" -v f="$fs" 'BEGIN { printf "%.2f", a / f }')
    ratios+=("$ratio")
    echo "round $r: floor ${fs}s (${fk} KB)  audit --sigma ${as}s (${ak} KB peak RSS)  ratio ${ratio}"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median ratio %s (min %s, max %s) over %d rounds\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'
echo "findings: $(wc -l < "$OUT/sigma-findings.jsonl")"
