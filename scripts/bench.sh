#!/usr/bin/env bash
# End-to-end benchmark: `cmtrace-rs parse` and `analyze` beside `rg` on the same generated fleet corpus.
#   scripts/bench.sh [CORPUS_DIR]               stress profile (default: bench-corpus/, generated if missing:
#                                               ~1.2 GB, 2,000 devices, 900 MB of server logs in one file each)
#   PROFILE=fleet scripts/bench.sh [CORPUS_DIR]  fleet profile (default: bench-fleet/: ~1.0 GB, 260 clients with
#                                               their whole CCM\Logs folder, 100 MB of rolled-over server logs)
# Prints a Markdown table: seconds (best of 3, warm cache), MB/s, lines/s, peak RSS, ratio to `rg -c .`.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-stress}
if [ "$profile" = fleet ]; then
  corpus=${1:-bench-fleet}
  gen_args=(--profile fleet --devices "${DEVICES:-260}" --server-mb "${SERVER_MB:-100}")
else
  corpus=${1:-bench-corpus}
  gen_args=(--profile stress --devices "${DEVICES:-2000}" --server-mb "${SERVER_MB:-900}")
fi
if [ ! -d "$corpus" ]; then
  python3 scripts/gen-corpus.py --out "$corpus" "${gen_args[@]}"
fi
command -v rg >/dev/null || { apt-get install -y ripgrep >/dev/null 2>&1 || cargo install ripgrep; }
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
cargo build --release --quiet
bin=target/release/cmtrace-rs
bytes=$(du -sb "$corpus" | cut -f1)
lines=$(find "$corpus" -type f -exec cat {} + | wc -l)
mb=$(echo "$bytes / 1048576" | bc -l)

# best-of-3 wall time and the peak RSS of that run
measure() {
  local best="" rss=""
  for _ in 1 2 3; do
    local tf t m
    tf=$(mktemp)
    /usr/bin/time -f "%e %M" -o "$tf" "$@" >/dev/null 2>/dev/null || true
    read -r t m < <(tail -1 "$tf")
    rm -f "$tf"
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; rss=$m; fi
  done
  echo "$best $rss"
}

rg_line=$(measure rg -c . "$corpus"); rg_t=${rg_line% *}
printf '\nCorpus: %s (%s profile), %.0f MB, %d files, %d lines\n\n' "$corpus" "$profile" "$mb" "$(find "$corpus" -type f | wc -l)" "$lines"
echo "| command | seconds | MB/s | lines/s | peak RSS | vs rg -c . |"
echo "|---|---|---|---|---|---|"
row() {
  local name=$1; shift
  local r; r=$(measure "$@"); local t=${r% *} m=${r#* }
  printf '| `%s` | %.2f | %.0f | %.0f | %.0f MB | %.1fx |\n' "$name" "$t" "$(echo "$mb / $t" | bc -l)" \
    "$(echo "$lines / $t" | bc -l)" "$(echo "$m / 1024" | bc -l)" "$(echo "$t / $rg_t" | bc -l)"
}
row "rg -c ." rg -c . "$corpus"
row "rg -c 'LOG\\]!>'" rg -c 'LOG\]!>' "$corpus"
row "cmtrace-rs parse (ndjson)" "$bin" parse "$corpus"
row "cmtrace-rs parse --format csv" "$bin" parse --format csv "$corpus"
row "cmtrace-rs analyze --format json" "$bin" analyze --format json --fail-on never "$corpus"
row "cmtrace-rs analyze --format ndjson" "$bin" analyze --format ndjson --fail-on never "$corpus"
echo
# The issue's yardstick: analyze (JSON) against parse (NDJSON) on the same corpus, same machine, same run.
p=$(measure "$bin" parse "$corpus"); a=$(measure "$bin" analyze --format json --fail-on never "$corpus")
printf 'analyze / parse: %.1fx (%.2f s / %.2f s)\n' "$(echo "${a% *} / ${p% *}" | bc -l)" "${a% *}" "${p% *}"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GB; $("$bin" --version); $(rg --version 2>/dev/null | head -1)"
