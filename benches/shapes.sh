#!/usr/bin/env bash
# benches/shapes.sh — issue 28: the archives people have. Cold runs (no index) against the
# decompression floor in interleaved rounds, on three archive shapes, then what path pruning
# touches on an organization trail, then a walk of a million files against `find`.
# See benches/README.md.
#
# Environment:
#   BENCH_DIR  the 2 GB bench archive (default target/bench-archive: gen_archive --size 2GB --seed 42)
#   TINY_DIR   100,000 files of 1-12 records (default target/bench-tiny;
#              gen_archive --files 100000 --records 1-12 --seed 42 when missing)
#   ORG_DIR    an organization trail of 200 accounts and 17 regions, 100,000 files of 1-12
#              records (default target/bench-org; gen_archive --files 100000 --records 1-12
#              --org-accounts 200 --regions 17 --seed 42 when missing)
#   STUB_DIR   a tree of 1,000,000 empty .json.gz stubs in the org layout (default
#              target/bench-stubs; made when missing)
#   ROUNDS     interleaved rounds (default 5)
#
# Rows are timed with GNU time: wall, user+sys CPU, peak RSS. A row's ratio is the median over
# rounds of its time over the floor's (`search --inflate-only --count`) in the same round.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
BENCH_DIR=${BENCH_DIR:-target/bench-archive}
TINY_DIR=${TINY_DIR:-target/bench-tiny}
ORG_DIR=${ORG_DIR:-target/bench-org}
STUB_DIR=${STUB_DIR:-target/bench-stubs}
ROUNDS=${ROUNDS:-5}

cargo build --release --bin trailscan --example gen_archive >&2
TS="$CARGO_TARGET_DIR/release/trailscan"
GEN="$CARGO_TARGET_DIR/release/examples/gen_archive"
[[ -d $BENCH_DIR/AWSLogs ]] || "$GEN" --size 2GB --seed 42 "$BENCH_DIR"
[[ -d $TINY_DIR/AWSLogs ]] || "$GEN" --files 100000 --records 1-12 --seed 42 "$TINY_DIR"
[[ -d $ORG_DIR/AWSLogs ]] ||
    "$GEN" --files 100000 --records 1-12 --org-accounts 200 --regions 17 --seed 42 "$ORG_DIR"

# shellcheck source=benches/lib.sh
source benches/lib.sh

# rows on stdin: name|target|command ($A is the archive)
rounds() {
    local label=$1 A=$2
    shift 2
    local -a names=() targets=() cmds=()
    while IFS='|' read -r n t c; do
        [[ -n $n ]] || continue
        names+=("$n")
        targets+=("$t")
        cmds+=("$c")
    done
    local raw
    raw=$(mktemp)
    rounds "$A" "$raw"
    echo "### $label ($(find "$A" -name '*.json.gz' -path '*/CloudTrail/*' | wc -l) log files, $(du -sh "$A" | cut -f1) on disk; $ROUNDS rounds)"
    echo
    echo "| row | × floor (CPU) | × floor (wall) | CPU s | peak RSS MiB | target |"
    echo "|:---|---:|---:|---:|---:|:---|"
    printf '| floor: read + inflate | 1.00 | 1.00 | %s | | |\n' "$(cut -f6 "$raw" | median)"
    for i in "${!names[@]}"; do
        local n=${names[$i]} rw rc cs rss
        rw=$(awk -F'\t' -v n="$n" '$1 == n { print $2 / $5 }' "$raw" | median)
        rc=$(awk -F'\t' -v n="$n" '$1 == n { print $3 / $6 }' "$raw" | median)
        cs=$(awk -F'\t' -v n="$n" '$1 == n { print $3 }' "$raw" | median)
        rss=$(awk -F'\t' -v n="$n" '$1 == n { print $4 / 1024 }' "$raw" | sort -g | tail -1)
        printf '| %s | %.3f | %.3f | %.2f | %.1f | %s |\n' "$n" "$rc" "$rw" "$cs" "$rss" "${targets[$i]}"
    done
    echo
    rm -f "$raw"
}

# What a command opens and stats under the archive: calls naming a path outside `keep`
# (a regular expression), and in all.
touched() {
    local keep=$1
    shift
    local log
    log=$(mktemp)
    strace -f -qq -o "$log" -e trace=openat,open,stat,lstat,statx,newfstatat "$@" >/dev/null 2>&1 || true
    local all outside
    all=$(grep -c "\"$ORG_ABS" "$log" || true)
    outside=$(grep "\"$ORG_ABS" "$log" | grep -Evc "$keep" || true)
    echo "$all $outside"
    rm -f "$log"
}

# A million empty stubs in the org layout: 200 accounts × 17 regions × 7 days × 42 files.
make_stubs() {
    python3 - "$STUB_DIR" <<'PY'
import os, sys
root = sys.argv[1]
regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "us-east-2",
           "us-west-1", "ca-central-1", "eu-west-2", "eu-west-3", "eu-north-1", "ap-northeast-1",
           "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-south-1", "sa-east-1"]
for a in range(200):
    acct = f"{100000000000 + a * 3187:012d}"
    for r in regions:
        for d in range(1, 8):
            folder = f"{root}/AWSLogs/o-stubstubst/{acct}/CloudTrail/{r}/2024/03/{d:02d}"
            os.makedirs(folder, exist_ok=True)
            for k in range(42):
                name = f"{acct}_CloudTrail_{r}_202403{d:02d}T{k // 4:02d}{(k % 4) * 15:02d}Z_{k:016d}.json.gz"
                os.close(os.open(f"{folder}/{name}", os.O_CREAT | os.O_WRONLY, 0o644))
PY
}

echo "## Archive shapes ($(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD), $(nproc) threads, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo

rounds "tiny files" "$TINY_DIR" <<EOF
search --event CreateUser|1.2|$TS search \$A --event CreateUser --format jsonl -q --no-index
summary|2.5|$TS summary \$A -q --no-index
EOF

ORG_ABS=$(cd "$ORG_DIR" && pwd)
ACCT=$(find "$ORG_DIR/AWSLogs" -mindepth 2 -maxdepth 2 -type d | sort | sed -n 100p | xargs basename)
REGION=eu-north-1
rounds "organization trail, 200 accounts × 17 regions" "$ORG_DIR" <<EOF
search --event CreateUser||$TS search \$A --event CreateUser --format jsonl -q --no-index
summary||$TS summary \$A -q --no-index
search --account $ACCT||$TS search \$A --account $ACCT --count -q --no-index
search --region $REGION||$TS search \$A --region $REGION --count -q --no-index
EOF

rounds "2 GB bench archive" "$BENCH_DIR" <<EOF
summary --by eventName|2.5|$TS summary \$A --by eventName -q --no-index
EOF

if command -v strace >/dev/null; then
    echo "### What path pruning touches on the organization trail (strace: open and stat calls naming a path in the archive)"
    echo
    echo "| command | calls | outside the wanted folders | files read |"
    echo "|:---|---:|---:|---:|"
    read -r all out < <(touched "/$ACCT(/|\"|$)" "$TS" search "$ORG_ABS" --account "$ACCT" --count -q --no-index)
    files=$("$TS" search "$ORG_ABS" --account "$ACCT" --files -q | wc -l)
    echo "| search --account $ACCT | $all | $out (the path down to it: the archive, AWSLogs, the org folder) | $files |"
    read -r all out < <(touched "/$REGION(/|\"|$)|/[0-9]{12}(/CloudTrail(-Digest)?)?\"" "$TS" search "$ORG_ABS" --region "$REGION" --count -q --no-index)
    files=$("$TS" search "$ORG_ABS" --region "$REGION" --files -q | wc -l)
    echo "| search --region $REGION | $all | $out (beyond each account's folder and its CloudTrail folders) | $files |"
    echo
fi

[[ -d $STUB_DIR/AWSLogs ]] || make_stubs
echo "### Walking $(find "$STUB_DIR" -name '*.json.gz' | wc -l) files (empty stubs, page cache warm; $ROUNDS rounds, medians)"
echo
echo "| command | wall s | CPU s |"
echo "|:---|---:|---:|"
declare -A W C
for ((r = 1; r <= ROUNDS; r++)); do
    for row in "find -name '*.json.gz'" "find -name '*.json.gz' | sort" "trailscan search --files" "find -printf size (a stat per file)" "trailscan index --status (a stat per file)"; do
        case $row in
        "find -name '*.json.gz'") cmd=(bash -c "find '$STUB_DIR' -name '*.json.gz' >/dev/null") ;;
        "find -name '*.json.gz' | sort") cmd=(bash -c "find '$STUB_DIR' -name '*.json.gz' | LC_ALL=C sort >/dev/null") ;;
        "trailscan search --files") cmd=("$TS" search "$STUB_DIR" --files -q) ;;
        "find -printf size (a stat per file)") cmd=(bash -c "find '$STUB_DIR' -name '*.json.gz' -printf '%s %p\n' >/dev/null") ;;
        "trailscan index --status (a stat per file)") cmd=("$TS" index --status "$STUB_DIR" --index-dir "$(mktemp -d)") ;;
        esac
        read -r w c _ < <(timed "${cmd[@]}")
        W[$row]+="$w "
        C[$row]+="$c "
    done
done
for row in "find -name '*.json.gz'" "find -name '*.json.gz' | sort" "trailscan search --files" "find -printf size (a stat per file)" "trailscan index --status (a stat per file)"; do
    printf '| %s | %s | %s |\n' "$row" "$(tr ' ' '\n' <<<"${W[$row]}" | grep . | median)" "$(tr ' ' '\n' <<<"${C[$row]}" | grep . | median)"
done
