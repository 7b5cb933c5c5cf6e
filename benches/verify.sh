#!/usr/bin/env bash
# benches/verify.sh — time `trailscan verify` against the decompression floor on an archive
# with real, signed digest chains written by examples/gen_digests.rs. See benches/README.md.
#
# Environment:
#   VERIFY_DIR      archive cache dir                      (default target/verify-archive)
#   VERIFY_SIZE_MB  uncompressed size of the log files, MB (default 300)
#   VERIFY_REGIONS  regions (one digest chain each)        (default 3)
#   ROUNDS          interleaved rounds                     (default 5)
#   THREADS         worker threads for both commands       (default: all CPUs)
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
DIR=${VERIFY_DIR:-target/verify-archive}
SIZE=${VERIFY_SIZE_MB:-300}
REGIONS=${VERIFY_REGIONS:-3}
ROUNDS=${ROUNDS:-5}
J=()
[[ -n ${THREADS:-} ]] && J=(-j "$THREADS")

cargo build --release --quiet
BIN=$CARGO_TARGET_DIR/release/trailscan
if [[ "$(cat "$DIR/.gen-params" 2>/dev/null)" != "$SIZE $REGIONS" ]]; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    cargo run --release --quiet --example gen_digests -- "$DIR" --size "$SIZE" --regions "$REGIONS"
    echo "$SIZE $REGIONS" > "$DIR/.gen-params"
fi

FLOOR=("$BIN" search "$DIR/bucket" --inflate-only --count --quiet "${J[@]}")
VERIFY=("$BIN" verify "$DIR/bucket" --public-keys "$DIR/keys.json" --signatures "$DIR/signatures.jsonl"
    --format jsonl --strict "${J[@]}")

# Wall and CPU (user + system) seconds of one run, via GNU time. `search --count` exits 1
# when nothing matches, as here.
measure() {
    /usr/bin/time -f '%e %U %S' -o "$TMP" "$@" >/dev/null || [[ $? -eq 1 ]]
    tail -1 "$TMP" | awk '{printf "%s %.3f\n", $1, $2 + $3}'
}
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT

# The archive must verify (exit 0 with --strict: every digest and log file valid).
"${VERIFY[@]}" >/dev/null || { echo "verify.sh: the generated archive does not verify" >&2; exit 1; }
"${FLOOR[@]}" >/dev/null || true # warm the page cache

du -sh "$DIR/bucket" | sed 's/^/archive on disk: /'
echo "round  floor_wall  floor_cpu  verify_wall  verify_cpu  wall_ratio  cpu_ratio"
: > "$TMP.r"
for r in $(seq 1 "$ROUNDS"); do
    read -r fw fc < <(measure "${FLOOR[@]}")
    read -r vw vc < <(measure "${VERIFY[@]}")
    wr=$(echo "$vw / $fw" | bc -l)
    cr=$(echo "$vc / $fc" | bc -l)
    echo "$wr $cr" >> "$TMP.r"
    printf '%5d  %10.3f  %9.3f  %11.3f  %10.3f  %10.2f  %9.2f\n' "$r" "$fw" "$fc" "$vw" "$vc" "$wr" "$cr"
done
for col in 1 2; do
    name=$([[ $col == 1 ]] && echo wall || echo cpu)
    cut -d' ' -f$col "$TMP.r" | sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "median %s ratio verify/floor: %.2f (min %.2f, max %.2f, %d rounds)\n", n, a[int((NR+1)/2)], a[1], a[NR], NR}'
done
rm -f "$TMP.r"
