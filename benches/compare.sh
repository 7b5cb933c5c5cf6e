#!/usr/bin/env bash
# benches/compare.sh — time trailscan against the decompression floor and peer
# tools on a generated CloudTrail archive. See benches/README.md.
#
# Usage:  benches/compare.sh            (from anywhere; runs from the repo root)
#
# Environment:
#   BENCH_DIR    archive cache dir            (default target/bench-archive)
#   BENCH_SIZE   uncompressed archive size    (default 2GB; gen_archive syntax)
#   BENCH_SEED   generator seed               (default 42)
#   RUNS         hyperfine runs per command   (default 3, after 1 warmup)
#   ROUNDS       interleaved rounds for the ratios to the floor (default 5; 0
#                skips them; see "interleaved ratios" below)
#   RESULTS_DIR  where results go             (default target/bench-results)
#   JQ_SHARE     percent of log files fed to the jq peer (default 10)
#   BENCH_ONLY   all | trailscan | peers      (default all; `peers` skips
#                building and timing trailscan)
#   FLOOR_CMD    the decompression-floor command (see below)
#
# Requires: cargo, hyperfine (Debian/Ubuntu: `apt-get install hyperfine`, or
# `cargo install hyperfine`), jq, GNU time at /usr/bin/time (`apt-get install
# time`) for peak RSS. Optional peers, skipped with a message when missing:
# duckdb (`pip install duckdb-cli`), rg (`apt-get install ripgrep` or `pip install ripgrep`).
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BENCH_DIR=${BENCH_DIR:-target/bench-archive}
BENCH_SIZE=${BENCH_SIZE:-2GB}
BENCH_SEED=${BENCH_SEED:-42}
RUNS=${RUNS:-3}
ROUNDS=${ROUNDS:-5}
RESULTS_DIR=${RESULTS_DIR:-target/bench-results}
JQ_SHARE=${JQ_SHARE:-10}
BENCH_ONLY=${BENCH_ONLY:-all}

# An eventName with a ~10 % share: gen_archive draws AssumeRole for exactly
# 10 % of records (CreateUser is 1 in 50,000).
TEN_PCT_EVENT=AssumeRole
# The pattern row's EventBridge pattern (prefix, cidr, anything-but), shared with
# benches/scaling.sh and the `combined_compare_sh` matcher bench.
PATTERN=$(<benches/pattern.json)

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

case $BENCH_ONLY in all | trailscan | peers) ;; *) die "BENCH_ONLY must be all, trailscan or peers" ;; esac
have hyperfine || die "hyperfine not found; install it with 'apt-get install hyperfine' (Debian/Ubuntu) or 'cargo install hyperfine'"
have jq || die "jq not found (needed for the jq peer and to post-process results); 'apt-get install jq'"
have cargo || die "cargo not found"

mkdir -p "$RESULTS_DIR"
RESULTS_DIR=$(cd "$RESULTS_DIR" && pwd)

# --- build ------------------------------------------------------------------
say "building (release)"
if [[ $BENCH_ONLY == peers ]]; then
    cargo build --release --example gen_archive
else
    cargo build --release --bin trailscan --example gen_archive
fi
TS="$CARGO_TARGET_DIR/release/trailscan"
GEN="$CARGO_TARGET_DIR/release/examples/gen_archive"

# --- archive (generated once, reused while size and seed match) ---------------
PARAMS="size=$BENCH_SIZE seed=$BENCH_SEED"
if [[ -f $BENCH_DIR/.gen-params && $(cat "$BENCH_DIR/.gen-params") == "$PARAMS" ]]; then
    say "reusing archive $BENCH_DIR ($PARAMS)"
elif [[ -e $BENCH_DIR ]]; then
    die "$BENCH_DIR exists but was not generated with $PARAMS; remove it or set BENCH_DIR"
else
    say "generating $BENCH_SIZE archive into $BENCH_DIR (seed $BENCH_SEED)"
    tmp="$BENCH_DIR.tmp.$$"
    rm -rf "$tmp"
    "$GEN" --size "$BENCH_SIZE" --seed "$BENCH_SEED" "$tmp" 2> >(tee "$RESULTS_DIR/generate.txt" >&2)
    echo "$PARAMS" >"$tmp/.gen-params"
    mv "$tmp" "$BENCH_DIR"
fi
DIR=$(cd "$BENCH_DIR" && pwd)
qDIR=$(printf '%q' "$DIR")
qTS=$(printf '%q' "$TS")

# Log files only (digests live under CloudTrail-Digest/ and hold no Records).
find "$DIR" -path '*/CloudTrail/*' -name '*.json.gz' -print0 | sort -z >"$RESULTS_DIR/logfiles.lst0"
nfiles=$(tr -cd '\0' <"$RESULTS_DIR/logfiles.lst0" | wc -c)
total_bytes=$(xargs -0 stat -c %s <"$RESULTS_DIR/logfiles.lst0" | awk '{s+=$1} END {print s}')
say "archive: $nfiles log files, $total_bytes compressed bytes"

# --- commands -----------------------------------------------------------------
names=()
cmds=()
add() { names+=("$1"); cmds+=("$2"); }

# Decompression floor: read and inflate every file with trailscan's own reader
# (libdeflate, same threads) and do nothing else: `--inflate-only` is a hidden
# flag for exactly this. Without trailscan (BENCH_ONLY=peers) zcat stands in.
if [[ $BENCH_ONLY == peers ]]; then
    FLOOR_CMD=${FLOOR_CMD:-"find $qDIR -name '*.json.gz' -print0 | xargs -0 -P2 -n64 zcat > /dev/null"}
else
    FLOOR_CMD=${FLOOR_CMD:-"$qTS search $qDIR --inflate-only --count --quiet"}
fi
add "floor: gunzip all (FLOOR_CMD)" "$FLOOR_CMD"

ts_names=()
ts_cmds=()
if [[ $BENCH_ONLY != peers ]]; then
    [[ -x $TS ]] || die "$TS not built"
    ts_names=(
        "trailscan search --event CreateUser"
        "trailscan search --pattern prefix/cidr/anything-but"
        "trailscan search --event $TEN_PCT_EVENT (~10%)"
        "trailscan summary --by eventName"
        "trailscan search --since 2000-01-01 (every record, sorted)"
    )
    ts_cmds=(
        "$qTS search $qDIR --event CreateUser --format jsonl"
        "$qTS search $qDIR --pattern '$PATTERN' --format jsonl"
        "$qTS search $qDIR --event $TEN_PCT_EVENT --format jsonl"
        "$qTS summary $qDIR --by eventName"
        "$qTS search $qDIR --since 2000-01-01 --format jsonl"
    )
    for i in "${!ts_cmds[@]}"; do add "${ts_names[$i]}" "${ts_cmds[$i]}"; done
fi

# Peer: zcat | jq, two parallel pipelines over every k-th log file (about
# JQ_SHARE % of the files). Its time is extrapolated to the whole archive by
# compressed-byte share below.
step=$((100 / JQ_SHARE))
((step >= 1)) || step=1
tr '\0' '\n' <"$RESULTS_DIR/logfiles.lst0" | awk -v s="$step" 'NR % s == 1 || s == 1' >"$RESULTS_DIR/jq-subset.lst"
awk 'NR % 2 == 1' "$RESULTS_DIR/jq-subset.lst" | tr '\n' '\0' >"$RESULTS_DIR/jq-a.lst0"
awk 'NR % 2 == 0' "$RESULTS_DIR/jq-subset.lst" | tr '\n' '\0' >"$RESULTS_DIR/jq-b.lst0"
jq_bytes=$(tr '\n' '\0' <"$RESULTS_DIR/jq-subset.lst" | xargs -0 stat -c %s | awk '{s+=$1} END {print s}')
jq_share=$(awk -v a="$jq_bytes" -v b="$total_bytes" 'BEGIN {printf "%.6f", a / b}')
JQ_FILTER='.Records[] | select(.eventName == "CreateUser")'
qA=$(printf '%q' "$RESULTS_DIR/jq-a.lst0")
qB=$(printf '%q' "$RESULTS_DIR/jq-b.lst0")
JQ_NAME="peer: zcat | jq CreateUser (subset, 2 pipelines)"
add "$JQ_NAME" \
    "xargs -0 zcat < $qA | jq -c '$JQ_FILTER' > /dev/null & a=\$!; xargs -0 zcat < $qB | jq -c '$JQ_FILTER' > /dev/null & b=\$!; wait \$a && wait \$b"

# Peer: DuckDB CLI, auto-detected schema, unnest(Records), filter.
if have duckdb; then
    files_sql=$(tr '\0' '\n' <"$RESULTS_DIR/logfiles.lst0" | sed "s/'/''/g; s/.*/'&'/" | paste -sd, -)
    cat >"$RESULTS_DIR/duckdb-createuser.sql" <<EOF
SELECT count(*) AS create_user
FROM (SELECT unnest(Records) AS r FROM read_json([$files_sql], format = 'auto'))
WHERE r.eventName = 'CreateUser';
EOF
    add "peer: duckdb read_json+unnest CreateUser" \
        "duckdb -c \".read $(printf '%q' "$RESULTS_DIR/duckdb-createuser.sql")\" > /dev/null"
    # The same with the schema given instead of inferred: DuckDB then decodes only
    # eventName (the fastest form of this question we found).
    cat >"$RESULTS_DIR/duckdb-createuser-schema.sql" <<EOF
SELECT count(*) AS create_user
FROM (SELECT unnest(Records) AS r FROM read_json([$files_sql],
      columns = {Records: 'STRUCT(eventName VARCHAR)[]'}))
WHERE r.eventName = 'CreateUser';
EOF
    add "peer: duckdb read_json+unnest CreateUser, schema given" \
        "duckdb -c \".read $(printf '%q' "$RESULTS_DIR/duckdb-createuser-schema.sql")\" > /dev/null"
else
    say "skipping DuckDB peer: 'duckdb' not on PATH (pip install duckdb-cli)"
fi

# Peer: ripgrep over gzip files. Each delivery file is one line, so this
# finds files containing the text, not records; a lower bound for grep tools.
if have rg; then
    add "peer: rg -z CreateUser (file-level)" "rg -z -c CreateUser $qDIR > /dev/null"
else
    say "skipping ripgrep peer: 'rg' not on PATH (apt-get install ripgrep)"
fi

# --- timing -------------------------------------------------------------------
# -i: grep-like exit codes (1 = nothing found) are not failures here.
hf_args=(-i --warmup 1 --runs "$RUNS" --export-markdown "$RESULTS_DIR/hyperfine.md"
    --export-json "$RESULTS_DIR/hyperfine.json")
for i in "${!cmds[@]}"; do hf_args+=(-n "${names[$i]}" "${cmds[$i]}"); done
say "timing ${#cmds[@]} commands with hyperfine (warmup 1, runs $RUNS)"
hyperfine "${hf_args[@]}"

# --- interleaved ratios -------------------------------------------------------
# hyperfine times each command's runs back to back, so on a shared VM, whose
# speed drifts by 10-20 % within minutes, a ratio to the floor compares runs
# minutes apart. Here each round runs the floor and every trailscan command
# once, in turn, and a command's ratio is the median over the rounds of its
# time over the floor's time in the same round.
ratio_md=""
if ((${#ts_cmds[@]})) && ((ROUNDS > 0)); then
    say "timing the floor and trailscan commands in $ROUNDS interleaved rounds"
    rm -f "$RESULTS_DIR"/round-*.json
    for ((r = 1; r <= ROUNDS; r++)); do
        rf_args=(-i --runs 1 --export-json "$RESULTS_DIR/round-$r.json" -n "floor" "$FLOOR_CMD")
        for i in "${!ts_cmds[@]}"; do rf_args+=(-n "${ts_names[$i]}" "${ts_cmds[$i]}"); done
        hyperfine "${rf_args[@]}" >/dev/null
    done
    ratio_md=$(jq -rs '
        def median: sort | .[(length - 1) / 2 | floor];
        def fixed($d): (. * pow(10; $d) | round | tostring) as $s
            | ("0" * ([$d + 1 - ($s | length), 0] | max) + $s) as $p
            | $p[:($p | length) - $d] + "." + $p[($p | length) - $d:];
        [.[] | .results[0].mean as $floor | .results | to_entries[]
            | {i: .key, command: .value.command, t: .value.mean, ratio: (.value.mean / $floor)}]
        | group_by(.i)
        | ("| Command | Median (s) | × floor, median | × floor, min–max |",
           "|:---|---:|---:|---:|",
           (.[] | "| `\(.[0].command)` | \(map(.t) | median | fixed(3))"
                + " | **\(map(.ratio) | median | fixed(2))**"
                + " | \(map(.ratio) | min | fixed(2))–\(map(.ratio) | max | fixed(2)) |"))
    ' "$RESULTS_DIR"/round-*.json)
fi

# --- peak RSS of each trailscan command --------------------------------------
rss_md=""
if ((${#ts_cmds[@]})); then
    if [[ -x /usr/bin/time ]]; then
        say "measuring peak RSS (/usr/bin/time -v)"
        rss_md=$'| Command | Peak RSS (MiB) |\n|:---|---:|\n'
        for i in "${!ts_cmds[@]}"; do
            # Exit 1 is "no match" (an archive too small to hold a CreateUser); 2 is an error.
            /usr/bin/time -v -o "$RESULTS_DIR/time-$i.txt" sh -c "${ts_cmds[$i]} > /dev/null" ||
                (($? == 1))
            kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$RESULTS_DIR/time-$i.txt")
            rss_md+="| \`${ts_names[$i]}\` | $(awk -v k="$kb" 'BEGIN {printf "%.1f", k / 1024}') |"$'\n'
        done
    else
        say "skipping peak RSS: /usr/bin/time missing (apt-get install time)"
    fi
fi

# --- report -------------------------------------------------------------------
jq_mean=$(jq -r --arg n "$JQ_NAME" '.results[] | select(.command == $n) | .mean' "$RESULTS_DIR/hyperfine.json")
jq_full=$(awk -v m="$jq_mean" -v s="$jq_share" 'BEGIN {printf "%.2f", m / s}')
{
    echo "# trailscan benchmark"
    echo
    echo "Archive: \`$DIR\` ($PARAMS): $nfiles log files, $total_bytes compressed bytes."
    echo "Machine: $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ); trailscan $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
    echo
    cat "$RESULTS_DIR/hyperfine.md"
    if [[ -n $ratio_md ]]; then
        echo
        echo "Interleaved, $ROUNDS rounds (each round: the floor, then every trailscan command once):"
        echo
        echo "$ratio_md"
    fi
    echo
    echo "zcat | jq ran on $(wc -l <"$RESULTS_DIR/jq-subset.lst") of $nfiles log files" \
        "($(awk -v s="$jq_share" 'BEGIN {printf "%.1f", s * 100}') % of compressed bytes);" \
        "extrapolated to the whole archive: **${jq_full} s** (mean / byte share)."
    if [[ -n $rss_md ]]; then
        echo
        printf '%s' "$rss_md"
    fi
} >"$RESULTS_DIR/results.md"
say "results written to $RESULTS_DIR/results.md"
cat "$RESULTS_DIR/results.md"
