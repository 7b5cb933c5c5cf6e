#!/usr/bin/env bash
# benches/trace.sh — `trailscan trace` against the decompression floor, in interleaved rounds.
# See benches/README.md ("trace") and BENCHMARKS.md.
#
# Usage:  benches/trace.sh [ARCHIVE] [ROUNDS]
#   ARCHIVE defaults to $BENCH_DIR or target/bench-archive (the 2 GB generated archive,
#   `examples/gen_archive.rs --size 2GB --seed 42`); ROUNDS defaults to 5.
#
# Seeds (override with LIGHT_KEY / HEAVY_KEY): on the seed-42 archive, LIGHT is a session key
# with one event that created one access key (2 credentials); HEAVY is a long-term key with
# 20 035 events that issued 1 225 credentials (a blast radius of 1 226 keys, 20 037 events).
# Each round runs the floor (`search ARCHIVE --inflate-only --count --quiet`) and then each
# trace (text output to /dev/null, without the index); the summary gives, per command, the
# median wall and CPU (user+sys) times and the median, min and max of each over the same
# round's floor (a shared machine disturbs CPU time less than wall time).
# With INDEX_DIR set (a private index folder), the archive is indexed there first
# (`trailscan index`, timed) and each round also runs both traces with that index.
set -euo pipefail
dir=${1:-${BENCH_DIR:-target/bench-archive}}
rounds=${2:-5}
bin=${BIN:-target/release/trailscan}
light=${LIGHT_KEY:-ASIAZRPUHLF3NVLGYYPC}
heavy=${HEAVY_KEY:-AKIACPEVMB4FAS2ZNFRT}
[[ -x $bin ]] || cargo build --release --quiet
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
idx=(--no-index)
if [[ -n ${INDEX_DIR:-} ]]; then
    s=$(date +%s%N)
    "$bin" index "$dir" --index-dir "$INDEX_DIR" --quiet
    echo "index built in $((($(date +%s%N) - s) / 1000000)) ms"
fi
# One run: "wall,cpu" (seconds; cpu = user + sys).
seconds() { { /usr/bin/time -f '%e %U %S' "$@" 2>&1 >/dev/null || true; } | tail -1 | awk '{printf "%s,%s", $1, $2 + $3}'; }
for ((r = 1; r <= rounds; r++)); do
    line=$(seconds "$bin" search "$dir" --inflate-only --count --quiet)
    line+=" $(seconds "$bin" trace "$dir" --access-key "$light" "${idx[@]}")"
    line+=" $(seconds "$bin" trace "$dir" --access-key "$heavy" "${idx[@]}")"
    if [[ -n ${INDEX_DIR:-} ]]; then
        line+=" $(seconds "$bin" trace "$dir" --access-key "$light" --index-dir "$INDEX_DIR")"
        line+=" $(seconds "$bin" trace "$dir" --access-key "$heavy" --index-dir "$INDEX_DIR")"
    fi
    echo "$line" >>"$rows"
done
python3 - "$rows" <<'PY'
import statistics as st, sys
cells = [[c.split(",") for c in l.split()] for l in open(sys.argv[1]) if l.strip()]
rows = [[float(w) for w, _ in r] for r in cells]
cpus = [[float(c) for _, c in r] for r in cells]
names = ["floor (inflate only)", "trace --access-key LIGHT", "trace --access-key HEAVY",
         "trace LIGHT, with the index", "trace HEAVY, with the index"][:len(rows[0])]
print(f"{len(rows)} interleaved rounds; ratios are to the same round's floor")
for k, n in enumerate(names):
    ratio = [r[k] / r[0] for r in rows]
    cratio = [r[k] / r[0] for r in cpus]
    print(f"{n:28s} wall median {st.median(r[k] for r in rows):6.2f} s, x floor median {st.median(ratio):.2f} "
          f"({min(ratio):.2f}-{max(ratio):.2f}) | cpu median {st.median(r[k] for r in cpus):6.2f} s, "
          f"x floor median {st.median(cratio):.2f} ({min(cratio):.2f}-{max(cratio):.2f})")
PY
