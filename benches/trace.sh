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
# trace (text output to /dev/null); the summary gives, per command, the median time and the
# median, min and max of its time over the same round's floor, plus CPU time (user+sys) of a
# last run of each, which a shared machine disturbs less than wall time.
set -euo pipefail
dir=${1:-${BENCH_DIR:-target/bench-archive}}
rounds=${2:-5}
bin=${BIN:-target/release/trailscan}
light=${LIGHT_KEY:-ASIAZRPUHLF3NVLGYYPC}
heavy=${HEAVY_KEY:-AKIACPEVMB4FAS2ZNFRT}
[[ -x $bin ]] || cargo build --release --quiet
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
seconds() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000))e-6; }
for ((r = 1; r <= rounds; r++)); do
    line=$(seconds "$bin" search "$dir" --inflate-only --count --quiet)
    line+=" $(seconds "$bin" trace "$dir" --access-key "$light")"
    line+=" $(seconds "$bin" trace "$dir" --access-key "$heavy")"
    echo "$line" >>"$rows"
done
cpu() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}'; }
cpus="$(cpu "$bin" search "$dir" --inflate-only --count --quiet) \
$(cpu "$bin" trace "$dir" --access-key "$light" -q) $(cpu "$bin" trace "$dir" --access-key "$heavy" -q)"
python3 - "$rows" "$cpus" <<'PY'
import statistics as st, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
cpu = [float(x) for x in sys.argv[2].split()]
names = ["floor (inflate only)", "trace --access-key LIGHT", "trace --access-key HEAVY"]
print(f"{len(rows)} interleaved rounds")
for k, n in enumerate(names):
    ratio = [r[k] / r[0] for r in rows]
    print(f"{n:28s} median {st.median(r[k] for r in rows):6.2f} s   x floor: median {st.median(ratio):.2f}, "
          f"min {min(ratio):.2f}, max {max(ratio):.2f}   cpu {cpu[k]:.2f} s ({cpu[k] / cpu[0]:.2f}x)")
PY
