#!/usr/bin/env bash
# benches/export.sh — `trailscan export` on a CloudTrail archive: time and peak RSS next to the
# decompression floor (interleaved rounds), the lake's size next to the gzipped archive's, and
# DuckDB over the lake next to DuckDB over the raw JSON and trailscan. See benches/README.md.
#
# Usage:  benches/export.sh [ARCHIVE]        (default /work/bench-archive, else
#                                            target/bench-archive from compare.sh)
# Environment:
#   ROUNDS      interleaved rounds of floor + export (default 3)
#   THREADS     -j for trailscan (default 2)
#   LAKE        where the lake goes (default target/bench-lake; deleted first)
#   EXTRA       extra export arguments for every round (e.g. "--zstd-level 1")
#   VARIANTS    1 = also one round per row-group size / buffer size / zstd level
#   QUERIES     0 = skip the DuckDB query part
#   BASE        another trailscan binary (say main's, built in its worktree): each round also
#               runs its export, right after this one's, into an emptied folder (an A/B)
#   RESULTS_DIR where results.md goes (default target/bench-results)
# Requires: GNU time at /usr/bin/time; python3 with duckdb for the query part (skipped
# with a message without it).
set -euo pipefail
cd "$(dirname "$0")/.."
ARCHIVE=${1:-/work/bench-archive}
[ -d "$ARCHIVE" ] || ARCHIVE=target/bench-archive
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-2}
LAKE=${LAKE:-target/bench-lake}
EXTRA=${EXTRA:-}
RESULTS_DIR=${RESULTS_DIR:-target/bench-results}
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/export.md"
cargo build --release --quiet
BIN=target/release/trailscan

# run NAME CMD...: one timed run; prints "NAME wall user sys maxrss_kb".
run() {
  local name=$1; shift
  local t; t=$(mktemp)
  /usr/bin/time -f "%e %U %S %M" -o "$t" "$@" >/dev/null 2>&1 || true
  echo "$name $(tail -n 1 "$t")"
  rm -f "$t"
}

echo "# export benchmark ($(date -u +%FT%TZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))" | tee "$OUT"
echo | tee -a "$OUT"
echo "archive: $ARCHIVE ($(du -sh "$ARCHIVE" | cut -f1) on disk), -j $THREADS, rounds: $ROUNDS" | tee -a "$OUT"
echo | tee -a "$OUT"
echo "| round | floor s | export s | ratio | export user+sys s | export peak RSS MB | floor user+sys s | CPU ratio |" | tee -a "$OUT"
echo "|---|---|---|---|---|---|---|---|" | tee -a "$OUT"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$LAKE"
  read -r _ fw fu fs _ < <(run floor "$BIN" search "$ARCHIVE" -j "$THREADS" --inflate-only --count --quiet)
  fc=$(python3 -c "print(f'{$fu+$fs:.2f}')")
  # shellcheck disable=SC2086
  read -r _ ew eu es em < <(run export "$BIN" export "$ARCHIVE" -j "$THREADS" --out "$LAKE" -q $EXTRA)
  ratio=$(python3 -c "print(f'{$ew/$fw:.2f}')")
  ratios+=("$ratio")
  echo "| $r | $fw | $ew | ${ratio}x | $(python3 -c "print(f'{$eu+$es:.1f}')") | $((em / 1024)) | $fc | $(python3 -c "print(f'{($eu+$es)/$fc:.2f}')")x |" | tee -a "$OUT"
  if [ -n "${BASE:-}" ]; then
    rm -rf "$LAKE.base"
    # shellcheck disable=SC2086
    read -r _ bw bu bs bm < <(run base "$BASE" export "$ARCHIVE" -j "$THREADS" --out "$LAKE.base" -q $EXTRA)
    echo "| $r (BASE) | $fw | $bw | $(python3 -c "print(f'{$bw/$fw:.2f}')")x | $(python3 -c "print(f'{$bu+$bs:.1f}')") | $((bm / 1024)) | $fc | $(python3 -c "print(f'{($bu+$bs)/$fc:.2f}')")x |" | tee -a "$OUT"
  fi
done
[ -z "${BASE:-}" ] || rm -rf "$LAKE.base"
echo | tee -a "$OUT"
echo "median ratio to the floor: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')x" | tee -a "$OUT"

gz=$(find "$ARCHIVE" -path '*/CloudTrail/*' -name '*.gz' -printf '%s\n' | awk '{s+=$1} END {print s}')
lake=$(find "$LAKE" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
nfiles=$(find "$LAKE" -name '*.parquet' | wc -l)
echo | tee -a "$OUT"
echo "lake: $((lake / 1000000)) MB in $nfiles files; gzipped CloudTrail files: $((gz / 1000000)) MB; lake/gz = $(python3 -c "print(f'{$lake/$gz:.2f}')")" | tee -a "$OUT"

if [ "${VARIANTS:-0}" = 1 ]; then
  echo | tee -a "$OUT"
  echo "| variant | floor s | export s | ratio | user+sys s | RSS MB | lake MB | files |" | tee -a "$OUT"
  echo "|---|---|---|---|---|---|---|---|" | tee -a "$OUT"
  for v in "--row-group-rows 16384" "--row-group-rows 65536" "--row-group-rows 262144" \
           "--buffer-size 32MiB" "--buffer-size 128MiB" "--zstd-level 1" "--zstd-level 6" "--raw"; do
    rm -rf "$LAKE"
    read -r _ fw _ _ _ < <(run floor "$BIN" search "$ARCHIVE" -j "$THREADS" --inflate-only --count --quiet)
    # shellcheck disable=SC2086
    read -r _ ew eu es em < <(run export "$BIN" export "$ARCHIVE" -j "$THREADS" --out "$LAKE" -q $v)
    size=$(find "$LAKE" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
    echo "| \`$v\` | $fw | $ew | $(python3 -c "print(f'{$ew/$fw:.2f}')")x | $(python3 -c "print(f'{$eu+$es:.1f}')") | $((em / 1024)) | $((size / 1000000)) | $(find "$LAKE" -name '*.parquet' | wc -l) |" | tee -a "$OUT"
  done
  rm -rf "$LAKE"
  "$BIN" export "$ARCHIVE" -j "$THREADS" --out "$LAKE" -q
fi

if [ "${QUERIES:-1}" = 0 ]; then
  echo "results: $OUT"
  exit 0
fi
if ! python3 -c 'import duckdb' 2>/dev/null; then
  echo "SKIPPED the query part: python3 with duckdb not available (pip install duckdb)" | tee -a "$OUT"
  exit 0
fi
echo | tee -a "$OUT"
python3 benches/export_queries.py "$LAKE" "$ARCHIVE" "$BIN" "$THREADS" | tee -a "$OUT"
echo "results: $OUT"
