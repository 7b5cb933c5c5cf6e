#!/usr/bin/env bash
# benches/report.sh — `trailscan report` against the decompression floor and `summary`, in
# interleaved rounds. See BENCHMARKS.md ("report").
#
# Usage:  benches/report.sh [ARCHIVE] [ROUNDS]
#   ARCHIVE defaults to $BENCH_DIR or target/bench-archive (the 2 GB generated archive,
#   `examples/gen_archive.rs --size 2GB --seed 42`); ROUNDS defaults to 3.
#
# Each round runs the floor (`search ARCHIVE --inflate-only --count --quiet`), `summary`,
# `report --no-audit` and `report` (the built-in packs), all with --no-index; prints per
# command the median wall time and the median, min and max of its time over the same round's
# floor, then CPU time (user+sys) and peak RSS of one more run of each (a shared machine
# disturbs CPU time less than wall time), and the page's size, cube cells and records.
set -euo pipefail
dir=${1:-${BENCH_DIR:-target/bench-archive}}
rounds=${2:-3}
bin=${BIN:-target/release/trailscan}
page=$(mktemp --suffix .html)
rows=$(mktemp)
trap 'rm -f "$rows" "$page"' EXIT
[[ -x $bin ]] || cargo build --release --quiet
cmds=(
    "search $dir --inflate-only --count --quiet --no-index"
    "summary $dir -q --no-index"
    "report $dir -q --no-index --no-audit -o $page"
    "report $dir -q --no-index -o $page"
)
seconds() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(((e - s) / 1000))e-6; }
for ((r = 1; r <= rounds; r++)); do
    line=""
    # shellcheck disable=SC2086
    for c in "${cmds[@]}"; do line+=" $(seconds "$bin" $c)"; done
    echo "$line" >>"$rows"
done
cpus=""
for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    cpus+=" $({ /usr/bin/time -f '%U %S %M' "$bin" $c 2>&1 >/dev/null || true; } | tail -1 | awk '{printf "%s:%s", $1 + $2, $3}')"
done
python3 - "$rows" "$cpus" "$page" <<'PY'
import json, os, statistics as st, sys
rows = [[float(x) for x in l.split()] for l in open(sys.argv[1]) if l.strip()]
cpu = [tuple(float(y) for y in x.split(":")) for x in sys.argv[2].split()]
names = ["floor (inflate only)", "summary", "report --no-audit", "report (built-in packs)"]
print(f"{len(rows)} interleaved rounds; load average {os.getloadavg()[0]:.1f}")
print(f"| command | median wall | x floor (median, min-max) | CPU | CPU x floor | peak RSS |")
print(f"|---|---|---|---|---|---|")
for k, n in enumerate(names):
    r = [row[k] / row[0] for row in rows]
    print(f"| {n} | {st.median(row[k] for row in rows):.2f} s | {st.median(r):.2f} ({min(r):.2f}-{max(r):.2f}) "
          f"| {cpu[k][0]:.2f} s | {cpu[k][0] / cpu[0][0]:.2f} | {cpu[k][1] / 1024:.0f} MB |")
h = open(sys.argv[3]).read()
s = h.index('id="data">') + 10
d = json.loads(h[s:h.index("</script>", s)])
print(f"page: {len(h) / 1e6:.2f} MB; cube {len(d['cube'])} cells; {len(d['records'])} records embedded "
      f"({sum(len(r['raw']) for r in d['records']) / 1e6:.2f} MB of their text); "
      f"filterable values per field: { {x['key']: x['filterable'] for x in d['dims']} }")
PY
