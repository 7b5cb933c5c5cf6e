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

floor() { "$BIN" search "$DIR/bucket" --inflate-only --count --quiet "${J[@]}" >/dev/null; }
verify() {
    "$BIN" verify "$DIR/bucket" --public-keys "$DIR/keys.json" --signatures "$DIR/signatures.jsonl" \
        --format jsonl --strict "${J[@]}" >/dev/null
}
secs() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

# The archive must verify (exit 0 with --strict: every digest and log file valid).
verify || { echo "verify.sh: the generated archive does not verify" >&2; exit 1; }
floor # warm the page cache

du -sh "$DIR/bucket" | sed 's/^/archive on disk: /'
echo "round  floor_s  verify_s  ratio"
ratios=()
for r in $(seq 1 "$ROUNDS"); do
    f=$(secs floor)
    v=$(secs verify)
    ratio=$(echo "$v / $f" | bc -l)
    ratios+=("$ratio")
    printf '%5d  %7.3f  %8.3f  %5.2f\n' "$r" "$f" "$v" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {printf "median ratio verify/floor: %.2f (min %.2f, max %.2f, %d rounds)\n", a[int((NR+1)/2)], a[1], a[NR], NR}'
