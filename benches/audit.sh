#!/usr/bin/env bash
# The audit pass (issues 25, 27, 29) against the decompression floor, cold (--no-index), in
# interleaved rounds, for one or more trailscan binaries (an A/B of the pass): each round runs
# the floor, then for every binary `timeline` (every built-in rule), `audit --pack cis --pack
# threats` and `audit --sigma benches/sigma`, all JSON lines to /dev/null. CPU time (user +
# system) is what the ratios use: the machine is usually shared.
#
#   benches/audit.sh [ARCHIVE] [BIN...]     (default: $BENCH_DIR or target/bench-archive;
#                                            target/release/trailscan)
#   ROUNDS=3 benches/audit.sh /work/bench-archive /tmp/trailscan-before target/release/trailscan
#
# Prints one line per round (CPU seconds and peak RSS of each run) and, per binary and
# command, the median CPU ratio to the same round's floor (min, max).
set -euo pipefail
DIR=${1:-${BENCH_DIR:-target/bench-archive}}
shift || true
BINS=("$@")
((${#BINS[@]})) || BINS=(target/release/trailscan)
ROUNDS=${ROUNDS:-3}
RULES=${RULES:-benches/sigma}
OUT=${RESULTS_DIR:-target/bench-results}
mkdir -p "$OUT"
T="$OUT/audit-time.txt"
# CPU seconds and peak RSS (MiB) of one run.
measure() {
    /usr/bin/time -o "$T" -f '%U %S %M' "$@" > /dev/null 2> /dev/null || true
    tail -1 "$T" | awk '{ printf "%.2f %d\n", $1 + $2, $3 / 1024 }'
}
declare -A ratios
for r in $(seq 1 "$ROUNDS"); do
    read -r floor _ < <(measure "${BINS[0]}" search "$DIR" --inflate-only --count --quiet --no-index)
    line="round $r (load $(cut -d' ' -f1 /proc/loadavg)): floor ${floor}s"
    for b in "${!BINS[@]}"; do
        bin=${BINS[$b]}
        for cmd in timeline audit sigma; do
            case $cmd in
                timeline) args=(timeline "$DIR") ;;
                audit) args=(audit "$DIR" --pack cis --pack threats) ;;
                sigma) args=(audit "$DIR" --sigma "$RULES") ;;
            esac
            read -r cpu rss < <(measure "$bin" "${args[@]}" --no-index --format jsonl --quiet)
            ratio=$(awk -v a="$cpu" -v f="$floor" 'BEGIN { printf "%.2f", a / (f > 0 ? f : 0.01) }')
            ratios[$b,$cmd]+="$ratio "
            line+="; $bin $cmd ${cpu}s ${rss} MiB (${ratio}x)"
        done
    done
    echo "$line"
done
for b in "${!BINS[@]}"; do
    for cmd in timeline audit sigma; do
        # shellcheck disable=SC2086
        printf '%s\n' ${ratios[$b,$cmd]} | sort -n | awk -v n="${BINS[$b]} $cmd" \
            '{ a[NR] = $1 } END { printf "%s: median CPU ratio to the floor %s (min %s, max %s)\n", n, a[int((NR + 1) / 2)], a[1], a[NR] }'
    done
done
