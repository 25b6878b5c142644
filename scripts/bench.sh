#!/usr/bin/env bash
# The fleet-scale benchmark (issue 12): `cmtrace-rs analyze` (every format) and `parse` beside `rg` on generated
# corpora of both profiles at three sizes, one big server log beside lnav, and 1 against 2 cores.
#
#   scripts/bench.sh                       both profiles at 0.25, 1 and 4 GB (corpora generated once, ~12 GB)
#   SIZES="0.25 1" PROFILES=fleet scripts/bench.sh
#
# Environment: BENCH_DIR (where corpora are written, default bench/), SIZES, PROFILES, RUNS (best of, default 3;
# corpora of 4 GB and more are run once), LIMIT_MB (the peak-RSS bound, default 256).
# Profiles (scripts/gen-corpus.py):
#   fleet   what a collection from a fleet looks like: each client's whole CCM\Logs folder (flow logs among ~25
#           other agent logs, each with its .lo_), server logs rolled over every 5 MB; 260 devices per GB.
#   stress  flow-heavy: 2,000 devices (500 at 0.25 GB) whose flow runs through one site, server logs in one
#           file each (up to 1.7 GB), 40% of all lines flow events, thousands of devices seen only on servers.
# Prints Markdown tables: seconds (best of RUNS, warm cache, output to /dev/null), MB/s, lines/s, peak RSS and
# the ratio to the yardstick `rg -c -F -e 'LOG]!><time' -e '$$<'` (counting the records of both line formats).
# Exits 1 when a `cmtrace-rs` run peaks above LIMIT_MB (after printing every table).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bench_dir=${BENCH_DIR:-bench}
sizes=${SIZES:-0.25 1 4}
profiles=${PROFILES:-fleet stress}
runs=${RUNS:-3}
limit_mb=${LIMIT_MB:-256}

command -v rg >/dev/null || { apt-get install -y ripgrep >/dev/null 2>&1 || cargo install ripgrep; }
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
command -v bc >/dev/null || apt-get install -y bc >/dev/null
cargo build --release --quiet
bin=$root/target/release/cmtrace-rs
over=0

# corpus PROFILE SIZE -> its folder (generated when missing)
corpus() {
  local profile=$1 size=$2 dir="$bench_dir/$1-$2" args
  if [ "$profile" = fleet ]; then
    args=(--profile fleet --devices "$(echo "260 * $size / 1" | bc)" --server-mb "$(echo "100 * $size / 1" | bc)")
  else
    case $size in
      0.25) args=(--profile stress --devices 500 --server-mb 150) ;;
      1) args=(--profile stress --devices 2000 --server-mb 700) ;;
      *) args=(--profile stress --devices 2000 --server-mb "$(echo "900 * $size - 100" | bc | cut -d. -f1)") ;;
    esac
  fi
  if [ ! -d "$dir" ]; then
    python3 scripts/gen-corpus.py --out "$dir" "${args[@]}" >&2
  fi
  echo "$dir"
}

# measure N CMD... -> "seconds peak_kb" of the fastest of N runs
measure() {
  local n=$1 best="" rss=""
  shift
  for _ in $(seq "$n"); do
    local tf t m
    tf=$(mktemp)
    /usr/bin/time -f "%e %M" -o "$tf" "$@" >/dev/null 2>/dev/null || true
    read -r t m < <(tail -1 "$tf")
    rm -f "$tf"
    if [ -z "$best" ] || (($(echo "$t < $best" | bc -l))); then best=$t rss=$m; fi
  done
  echo "$best $rss"
}

# row NAME N MB LINES YARDSTICK_SECONDS CMD... : one table row; checks the bound for cmtrace-rs rows
row() {
  local name=$1 n=$2 mb=$3 lines=$4 yard=$5
  shift 5
  local r t m
  r=$(measure "$n" "$@")
  t=${r% *} m=${r#* }
  [ "$(echo "$t < 0.01" | bc)" = 1 ] && t=0.01
  local flag=""
  if [[ $name == cmtrace-rs* ]] && ((m / 1024 > limit_mb)); then flag=" **over**" over=1; fi
  printf '| `%s` | %.2f | %.0f | %.0f | %.0f MB%s | %.1fx |\n' "$name" "$t" "$(echo "$mb / $t" | bc -l)" \
    "$(echo "$lines / $t" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$flag" "$(echo "$t / $yard" | bc -l)"
}

table() {
  local dir=$1 n=$2
  local bytes lines mb files yard
  bytes=$(du -sb "$dir" | cut -f1)
  files=$(find "$dir" -type f | wc -l)
  lines=$(find "$dir" -type f -exec cat {} + | wc -l)
  mb=$(echo "$bytes / 1048576" | bc -l)
  local r m
  r=$(measure "$n" rg -c -F -e 'LOG]!><time' -e '$$<' "$dir")
  yard=${r% *} m=${r#* }
  printf '\n**%s**: %.0f MB, %d files, %d lines (best of %d)\n\n' "$dir" "$mb" "$files" "$lines" "$n"
  echo "| command | seconds | MB/s | lines/s | peak RSS | vs rg |"
  echo "|---|---|---|---|---|---|"
  printf '| `%s` | %.2f | %.0f | %.0f | %.0f MB | 1.0x |\n' "rg -c -F -e 'LOG]!><time' -e '\$\$<'" "$yard" \
    "$(echo "$mb / $yard" | bc -l)" "$(echo "$lines / $yard" | bc -l)" "$(echo "$m / 1024" | bc -l)"
  for f in json ndjson text markdown; do
    row "cmtrace-rs analyze --format $f" "$n" "$mb" "$lines" "$yard" "$bin" analyze --format "$f" --fail-on never "$dir"
  done
  row "cmtrace-rs parse --format ndjson" "$n" "$mb" "$lines" "$yard" "$bin" parse "$dir"
}

echo "# cmtrace-rs benchmark"
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB, $(uname -sr); $("$bin" --version); $(rg --version | head -1)"
for profile in $profiles; do
  for size in $sizes; do
    dir=$(corpus "$profile" "$size")
    n=$runs
    (($(echo "$size >= 4" | bc))) && n=1
    table "$dir" "$n"
  done
done

# One big server log: the connector log of the stress corpus cut to 160 MB, beside lnav indexing it with
# scripts/lnav/configmgr.json (when lnav is installed).
one="$bench_dir/one-log/CPSRV01"
if [ ! -f "$one/SMS_CLOUD_PROXYCONNECTOR.log" ]; then
  src=$(find "$(corpus stress 1)" -name SMS_CLOUD_PROXYCONNECTOR.log | head -1)
  mkdir -p "$one"
  head -c 167772160 "$src" | python3 -c 'import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[:d.rfind(b"\n") + 1])' \
    >"$one/SMS_CLOUD_PROXYCONNECTOR.log"
fi
table "$bench_dir/one-log" "$runs"
if command -v lnav >/dev/null; then
  lnav -i scripts/lnav/configmgr.json >/dev/null 2>&1 || true
  r=$(measure "$runs" lnav -n -c ';SELECT count(*) FROM configmgr_server_log' "$one/SMS_CLOUD_PROXYCONNECTOR.log")
  printf '| `lnav -n` (index, count the records) | %.2f | | | %.0f MB | |\n' "${r% *}" "$(echo "${r#* } / 1024" | bc -l)"
else
  echo "(lnav not installed: apt-get install lnav to time it beside us)"
fi

# Cores: the 1 GB corpus of the first profile on 1 and on 2 threads.
first=${profiles%% *}
dir=$(corpus "$first" 1)
echo
echo "**cores** ($dir, \`analyze --format json\`)"
echo
echo "| RAYON_NUM_THREADS | seconds | peak RSS |"
echo "|---|---|---|"
for t in 1 2; do
  r=$(RAYON_NUM_THREADS=$t measure "$runs" "$bin" analyze --format json --fail-on never "$dir")
  printf '| %d | %.2f | %.0f MB |\n' "$t" "${r% *}" "$(echo "${r#* } / 1024" | bc -l)"
done

if ((over)); then
  echo
  echo "FAILED: a cmtrace-rs run peaked above $limit_mb MB (marked **over**)"
  exit 1
fi
