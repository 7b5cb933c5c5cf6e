#!/usr/bin/env bash
# Peak memory (RSS) of `trailscan search` on inputs that do not fit a buffer: a 4 GiB gzip
# bomb, a 3 GB JSON-lines file, a 2 GB single delivery file (gzipped) and a file holding a
# 100 MB record, at --threads 2 and 8. Measured with GNU time (`/usr/bin/time -v`), not timed:
# the figure is "Maximum resident set size". Results: target/bench-results/memory.md.
#
#   benches/memory.sh                     # builds release, generates inputs once, measures
#   MEM_DIR=/big/disk benches/memory.sh   # where the ~6 GB of inputs go
#   BASELINE=/path/to/old/trailscan benches/memory.sh   # also measure another binary
#
# Inputs are generated from the fixture archive's records (repeated), and reused while present.
set -euo pipefail
cd "$(dirname "$0")/.."
MEM_DIR=${MEM_DIR:-target/bench-memory}
OUT=${RESULTS_DIR:-target/bench-results}/memory.md
mkdir -p "$MEM_DIR" "$(dirname "$OUT")"
cargo build --release --quiet
BIN=target/release/trailscan

# One line per record of the fixture archive: the unit everything is built from.
unit=$MEM_DIR/unit.jsonl
if [ ! -s "$unit" ]; then
  "$BIN" search fixtures/archive -f jsonl 2>/dev/null > "$unit"
fi

repeat_to() { # FILE BYTES: the unit repeated to at least BYTES
  local f=$1 want=$2 chunk=$MEM_DIR/chunk.jsonl
  : > "$chunk"
  while [ "$(stat -c %s "$chunk")" -lt 33554432 ]; do cat "$unit" >> "$chunk"; done
  : > "$f"
  while [ "$(stat -c %s "$f")" -lt "$want" ]; do cat "$chunk" >> "$f"; done
}

bomb=$MEM_DIR/bomb-4GiB.json.gz
[ -s "$bomb" ] || head -c 4294967296 /dev/zero | gzip -1 > "$bomb"

lines=$MEM_DIR/lines-3GB.jsonl
[ -s "$lines" ] || repeat_to "$lines" 3000000000

delivery=$MEM_DIR/delivery-2GB.json.gz
if [ ! -s "$delivery" ]; then
  repeat_to "$MEM_DIR/d.jsonl" 2000000000
  { printf '{"Records":['; sed '$!s/$/,/' "$MEM_DIR/d.jsonl"; printf ']}'; } | gzip -1 > "$delivery"
  rm -f "$MEM_DIR/d.jsonl"
fi

bigrec=$MEM_DIR/record-100MB.jsonl
if [ ! -s "$bigrec" ]; then
  head -n 1000 "$unit" > "$bigrec"
  python3 - "$bigrec" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    rec = json.loads(f.readline())
rec["requestParameters"] = {"policyDocument": "x" * (100 * 1024 * 1024)}
rec["eventName"] = "CreateUser"
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(rec) + "\n")
EOF
  head -n 1000 "$unit" >> "$bigrec"
fi
rm -f "$MEM_DIR/chunk.jsonl"

measure() { # BIN FILE THREADS: "exit rss_MiB seconds"
  local log
  log=$(mktemp)
  set +e
  /usr/bin/time -v "$1" search "$2" --event CreateUser -c --threads "$3" --max-file-size 4GB \
    > /dev/null 2> "$log"
  local code=$?
  set -e
  local kb secs
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  echo "$code $((kb / 1024)) $secs"
  rm -f "$log"
}

{
  echo "# Peak RSS of \`search FILE --event CreateUser -c --max-file-size 4GB\`"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores (shared machine), commit $(git rev-parse --short HEAD)"
  echo
  echo "| input | binary | threads | exit | peak RSS (MiB) | wall |"
  echo "|---|---|---|---|---|---|"
  for f in "$bomb" "$lines" "$delivery" "$bigrec"; do
    for bin in "$BIN" ${BASELINE:+"$BASELINE"}; do
      for t in 2 8; do
        read -r code mib secs < <(measure "$bin" "$f" "$t")
        echo "| $(basename "$f") ($(du -h "$f" | cut -f1) on disk) | $bin | $t | $code | $mib | $secs |"
      done
    done
  done
} | tee "$OUT"
