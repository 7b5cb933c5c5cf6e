#!/usr/bin/env bash
# benches/ab.sh — compare trailscan binaries in interleaved rounds, each against the
# decompression floor measured in the same round. See benches/README.md.
#
# Usage:  benches/ab.sh ROUNDS 'ARGS' BIN...
#   e.g.  benches/ab.sh 7 'search target/bench-archive --event AssumeRole --format jsonl' \
#             /tmp/trailscan-before target/release/trailscan
#
# Each round runs the floor (`$FLOOR_BIN search DIR --inflate-only --count --quiet`, DIR
# being ARGS' second word), then every BIN with ARGS (split on spaces: no quoting inside
# ARGS), output to /dev/null. Prints, per BIN, the median time over the rounds and the
# median, min and max of its time over the same round's floor. FLOOR_BIN defaults to the
# first BIN. MEASURE=cpu measures CPU time (`perf stat -e task-clock`, all threads) in
# place of wall time: steadier on a shared machine.
set -euo pipefail
(($# >= 3)) || { sed -n '2,13p' "$0" >&2; exit 2; }
rounds=$1 args=$2
shift 2
read -r -a argv <<<"$args"
dir=${argv[1]:?ARGS must name the command and then the archive}
floor_bin=${FLOOR_BIN:-$1}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
seconds() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000))e-6; }
if [ "${MEASURE:-wall}" = cpu ]; then
    seconds() { # task-clock msec, as seconds
        local log
        log=$(mktemp)
        perf stat -x, -e task-clock -o "$log" "$@" >/dev/null 2>&1 || true
        awk -F, '/task-clock/ {printf "%.6f\n", $1 / 1000}' "$log"
        rm -f "$log"
    }
fi
for ((r = 1; r <= rounds; r++)); do
    line=$(seconds "$floor_bin" search "$dir" --inflate-only --count --quiet)
    for bin in "$@"; do line+=" $(seconds "$bin" "${argv[@]}")"; done
    echo "$line" >>"$rows"
done
python3 - "$rows" "$@" <<'PY'
import statistics as st, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
print(f"{'floor':40s} median {st.median(r[0] for r in rows):.3f} s")
for k, b in enumerate(sys.argv[2:], 1):
    ratio = [r[k] / r[0] for r in rows]
    print(f"{b:40s} median {st.median(r[k] for r in rows):.3f} s   x floor: median {st.median(ratio):.2f}, min {min(ratio):.2f}, max {max(ratio):.2f}")
PY
