#!/usr/bin/env bash
# Peak memory (RSS) of `trailscan search` on inputs that do not fit a buffer: a 4 GiB gzip
# bomb, a 3 GB JSON-lines file (gzipped), a 2 GB single delivery file (gzipped) and a file
# holding a 100 MB record, at --threads 2 and 8, for a selective count (`--event CreateUser
# -c`: few matches held) and for printing every record (no filter, `-f jsonl`, and `-f csv` /
# the default table on the delivery file: every match goes through the engine, the sorter and
# its spill files, and the sink). Measured with GNU time (`/usr/bin/time -v`), not timed: the
# figure is "Maximum resident set size". Results: target/bench-results/memory.md.
#
#   benches/memory.sh                     # builds release, generates inputs once, measures
#   MEM_DIR=/big/disk benches/memory.sh   # where the ~1 GB of inputs go
#   TMPDIR=/big/disk benches/memory.sh    # where the sorter spills (3 GB when all is printed)
#   BASELINE=/path/to/old/trailscan benches/memory.sh   # also measure another binary
#   BIN=/tmp/trailscan benches/memory.sh  # measure that binary (no build)
#   CASES=count benches/memory.sh         # only the counts (print: the printing; many: four
#                                         # delivery files at once, every record counted;
#                                         # summary: `summary --format json` of every record;
#                                         # trace: `trace --access-key`, two seeds;
#                                         # export: `export --out LAKE` of every record, the
#                                         # lake in LAKE_DIR (default MEM_DIR), deleted after;
#                                         # audit: `audit --pack cis --pack threats`;
#                                         # timeline; report: the page to /dev/null
#                                         # (report-no-audit: without the rules);
#                                         # index: `index DIR`, DIR a folder holding a link
#                                         # to the input, the index in a fresh folder)
#
# Inputs are generated from the fixture archive's records (repeated), and reused while present.
set -euo pipefail
cd "$(dirname "$0")/.."
MEM_DIR=${MEM_DIR:-target/bench-memory}
OUT=${RESULTS_DIR:-target/bench-results}/memory.md
mkdir -p "$MEM_DIR" "$(dirname "$OUT")"
# BIN: a binary already built (else this tree's, built now).
[ -n "${BIN:-}" ] || { cargo build --release --quiet; BIN=target/release/trailscan; }

# One line per record of the fixture archive: the unit everything is built from.
unit=$MEM_DIR/unit.jsonl
if [ ! -s "$unit" ]; then
  "$BIN" search fixtures/archive -f jsonl 2>/dev/null > "$unit"
fi

chunk=$MEM_DIR/chunk.jsonl
if [ ! -s "$chunk" ]; then
  : > "$chunk.tmp"
  while [ "$(stat -c %s "$chunk.tmp")" -lt 33554432 ]; do cat "$unit" >> "$chunk.tmp"; done
  mv "$chunk.tmp" "$chunk"
fi
repeat_to() { # BYTES: the unit repeated to at least BYTES, on stdout
  local n=$(( ($1 + $(stat -c %s "$chunk") - 1) / $(stat -c %s "$chunk") ))
  for _ in $(seq "$n"); do cat "$chunk"; done
}

bomb=$MEM_DIR/bomb-4GiB.json.gz
[ -s "$bomb" ] || head -c 4294967296 /dev/zero | gzip -1 > "$bomb"

# Gzipped, so that the inputs and a 3 GB spill fit a small disk; inflated, it is 3 GB of lines.
lines=$MEM_DIR/lines-3GB.jsonl.gz
[ -s "$lines" ] || { repeat_to 3000000000 | gzip -1 > "$lines.tmp" && mv "$lines.tmp" "$lines"; }

delivery=$MEM_DIR/delivery-2GB.json.gz
if [ ! -s "$delivery" ]; then
  { printf '{"Records":['; repeat_to 2000000000 | sed '$!s/$/,/'; printf ']}'; } \
    | gzip -1 > "$delivery.tmp"
  mv "$delivery.tmp" "$delivery"
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

measure() { # BIN FILES THREADS ARGS...: "exit rss_MiB seconds" (FILES split on spaces)
  local log bin=$1 file=$2 threads=$3
  shift 3
  log=$(mktemp)
  # A case's arguments may start with the command (`@summary`, `@trace`, `@export`); search
  # by default. An export writes its lake in a fresh folder, deleted after; an index reads a
  # folder holding a link to the file, into a fresh index folder, deleted after.
  local sub=search lake= ixdir=
  case ${1:-} in
    @*) sub=${1#@}; shift ;;
  esac
  if [ "$sub" = export ]; then
    lake=$(mktemp -d "${LAKE_DIR:-$MEM_DIR}/lake.XXXXXX")
    set -- "$@" --out "$lake"
  fi
  if [ "$sub" = index ]; then
    ixdir=$(mktemp -d "${LAKE_DIR:-$MEM_DIR}/index.XXXXXX")
    mkdir "$ixdir/in" && ln -s "$(realpath "$file")" "$ixdir/in/"
    file=$ixdir/in
  fi
  local env=()
  [ -z "$ixdir" ] || env=(env "TRAILSCAN_INDEX_DIR=$ixdir/index")
  set +e
  # shellcheck disable=SC2086
  "${env[@]}" /usr/bin/time -v "$bin" "$sub" $file "$@" --threads "$threads" --max-file-size 4GB \
    > /dev/null 2> "$log"
  local code=$?
  set -e
  [ -z "$lake" ] || rm -rf "$lake"
  [ -z "$ixdir" ] || rm -rf "$ixdir"
  local kb secs
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  echo "$code $((kb / 1024)) $secs"
  rm -f "$log"
}

# Each case: a label, then the search arguments. CASES may name several: CASES="audit index".
cases=()
case " ${CASES:-all} " in *" all "* | *" count "*) cases+=("count|--event CreateUser -c") ;; esac
case " ${CASES:-all} " in *" all "* | *" print "*) cases+=("print jsonl|-f jsonl") ;; esac
case " ${CASES:-all} " in *" all "* | *" summary "*) cases+=("summary of every record|@summary --format json") ;; esac
# A trace whose seed key made 73 % of the records (1,889 of the 2,594 the inputs repeat), and
# one whose seed made one.
case " ${CASES:-all} " in *" all "* | *" trace "*)
  cases+=("trace, seed in most records|@trace --access-key AKIATFQR7NSC8Q4X20BJ --no-index")
  cases+=("trace, seed in one record in 2,594|@trace --access-key ASIATFQR7NSC5445CWUI --no-index")
;; esac
case " ${CASES:-all} " in *" all "* | *" export "*) cases+=("export of every record|@export -q") ;; esac
case " ${CASES:-all} " in *" all "* | *" audit "*) cases+=("audit, two packs|@audit --pack cis --pack threats --format jsonl -q") ;; esac
case " ${CASES:-all} " in *" all "* | *" timeline "*) cases+=("timeline|@timeline --format jsonl -q") ;; esac
case " ${CASES:-all} " in *" all "* | *" index "*) cases+=("index|@index -q") ;; esac
case " ${CASES:-all} " in *" all "* | *" report "*) cases+=("report (built-in packs)|@report -q") ;; esac
case " ${CASES:-all} " in *" all "* | *" report-no-audit "*) cases+=("report --no-audit|@report --no-audit -q") ;; esac

row() { # FILE BIN THREADS LABEL ARGS
  local code mib secs
  read -r code mib secs < <(measure "$2" "$1" "$3" $5)
  local name
  name="$(basename "${1%% *}") ($(du -h "${1%% *}" | cut -f1) on disk)"
  [ "$1" = "${1%% *}" ] || name="$(wc -w <<<"$1") x $name"
  echo "| $name | $4 | $2 | $3 | $code | $mib | $secs |"
}

{
  echo "# Peak RSS of \`search FILE ARGS --max-file-size 4GB > /dev/null\`"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores (shared machine), commit $(git rev-parse --short HEAD)"
  echo
  echo "| input | case (ARGS) | binary | threads | exit | peak RSS (MiB) | wall |"
  echo "|---|---|---|---|---|---|---|"
  for c in "${cases[@]}"; do
    for f in "$bomb" "$lines" "$delivery" "$bigrec"; do
      for bin in "$BIN" ${BASELINE:+"$BASELINE"}; do
        for t in 2 8; do
          row "$f" "$bin" "$t" "${c%%|*}: \`${c#*|}\`" "${c#*|}"
        done
      done
    done
  done
  # The other sinks, on the delivery file: CSV streams; the table sizes its columns on
  # blocks of 10,000 rows, so it holds a block, not the output.
  case " ${CASES:-all} " in *" all "* | *" print "*)
    for bin in "$BIN" ${BASELINE:+"$BASELINE"}; do
      for t in 2 8; do
        row "$delivery" "$bin" "$t" "print csv: \`-f csv\`" "-f csv"
        row "$delivery" "$bin" "$t" "print table: \`-f table\`" "-f table"
      done
    done
  ;; esac
  # Four huge files at once, every record matching and counted (`-c` with no filter: the engine
  # hands every match on, nothing spills): the workers of the later files wait, each holding a
  # chunk, while the consumer is on the first.
  case " ${CASES:-all} " in *" all "* | *" many "*)
    for t in 2 8; do
      row "$delivery $delivery $delivery $delivery" "$BIN" "$t" "count all: \`-c\`" "-c"
    done
  ;; esac
} | tee "$OUT"
