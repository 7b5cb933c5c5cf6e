#!/usr/bin/env bash
# benches/scaling.sh — how trailscan scales with threads: the floor and the benchmark
# commands at each thread count, in interleaved rounds. See benches/README.md.
#
# Usage:  benches/scaling.sh ROUNDS DIR [THREADS...]
#   e.g.  benches/scaling.sh 5 target/bench-archive 1 2
#
# Each round runs, for every thread count (default: 1 and the number of CPUs), the floor
# (`search DIR --inflate-only --count --quiet`), the pattern search (benches/pattern.json)
# and the AssumeRole search to JSON lines, and `summary --by eventName`, each with
# `--threads N`, output to /dev/null. Prints, per command, the median time at each count
# and its speed-up over the first. TS names the binary (default target/release/trailscan).
set -euo pipefail
(($# >= 2)) || { sed -n '2,12p' "$0" >&2; exit 2; }
rounds=$1 dir=$2
shift 2
threads=("$@")
((${#threads[@]})) || threads=(1 "$(nproc)")
ts=${TS:-target/release/trailscan}
pattern=$(<"$(dirname "$0")/pattern.json") # the pattern row of benches/compare.sh
names=(floor pattern assume-role summary)
run() {
    case $1 in
    floor) "$ts" search "$dir" --inflate-only --count --quiet --threads "$2" ;;
    pattern) "$ts" search "$dir" --pattern "$pattern" --format jsonl --threads "$2" ;;
    assume-role) "$ts" search "$dir" --event AssumeRole --format jsonl --threads "$2" ;;
    summary) "$ts" summary "$dir" --by eventName --threads "$2" ;;
    esac
}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for ((r = 1; r <= rounds; r++)); do
    for n in "${threads[@]}"; do
        for name in "${names[@]}"; do
            s=$(date +%s%N)
            run "$name" "$n" >/dev/null 2>&1 || true
            e=$(date +%s%N)
            echo "$name $n $(((e - s) / 1000))e-6" >>"$rows"
        done
    done
done
python3 - "$rows" "${threads[@]}" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
counts = sys.argv[2:]
names = list(dict.fromkeys(r[0] for r in rows))
for name in names:
    med = {n: st.median(float(r[2]) for r in rows if r[0] == name and r[1] == n) for n in counts}
    cells = "   ".join(
        f"{n} thread(s) {med[n]:.3f} s ({med[counts[0]] / med[n]:.2f}x)" for n in counts
    )
    print(f"{name:12s} {cells}")
PY
