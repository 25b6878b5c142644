#!/usr/bin/env bash
# Mutation testing (cargo-mutants v27) of the modules that decide the answers: how lines are recognised
# and decoded, which files are read as which host, which events are one device, clock skew, phase
# verdicts, the rules, the exit status and the JUnit failures. One cargo-mutants run per module, then a
# table of the outcomes.
#
#   scripts/mutants.sh                     every module below
#   scripts/mutants.sh decode analyze      only these modules
#   scripts/mutants.sh --list [MODULE...]  how many mutants each module has (builds and tests nothing)
#   scripts/mutants.sh --table [MODULE...] the table from the results already under target/mutants
#   scripts/mutants.sh MODULE -- ARGS...   ARGS go to cargo mutants (e.g. --iterate, --shard 1/4, --timeout 600)
#
# MUTANTS_ORACLE=all judges the analysis modules by every test of their packages instead of the
# answer-deciding ones named in MODULES.
# MUTANTS_JOBS sets -j (default: nproc). Results: target/mutants/<module>/mutants.out/ (outcomes.json,
# caught.txt, missed.txt, timeout.txt, unviable.txt, a diff and a log per mutant).
# Options common to every run (timeouts, exclusions) are in .cargo/mutants.toml.
#
# Not in CI: far too slow. Every mutant rebuilds its crate and runs the test suites that judge it (the root
# package's take about a minute), and each run first builds a copy of the workspace from scratch and runs
# the unmutated baseline. Run it by hand after changing one of these modules or its tests, on that module.
# cargo-mutants copies the working tree, uncommitted changes included: the baseline must pass there.
# Measured on the 2-core machine with -j 2: each run spends 3-10 min building its copy and testing the
# baseline; then a mutant takes about 20-25 s of wall time when judged by cmtrace-parsers' tests (decode)
# and 55-75 s when judged by the root package's (analyze). `--list` gives the counts to multiply.

set -euo pipefail
cd "$(dirname "$0")/.."

# module | file | packages whose tests judge it (empty: the package of the file) | which of their tests
# (cargo test options, then after `--` the test binaries' own: names to run, `--skip` names; empty: all of
# them). The end-to-end tests are one binary, `it` (tests/it/), its tests named `<file>::<test>`; every unit
# test of a library is in a `tests` or `*_tests` module, so `tests::` selects them all and none of `it`.
ANALYSIS_ORACLE="--lib --test it -- tests:: bundles:: real_logs:: --skip fuzz_bundles::"
MODULES=(
    "format|parsers/src/format/*.rs||"
    "decode|parsers/src/decode.rs||"
    "input|parsers/src/input.rs||"
    # The analysis modules are judged end to end as well: the rules (analysis/src/rules/, a module per
    # family) by their unit tests on testkit and by tests/it/bundles.rs (every fixture bundle's
    # expected.json). Only the tests that decide the answers:
    # the analysis crate's own (flow_tests and the unit tests), the fixture bundles (strict both ways) and
    # the real logs. Measured here: 15-46 s against 57-75 s for every test of the root package. A survivor
    # is worth re-running on the whole suite before writing a test for it:
    # `scripts/mutants.sh rules -- --re 'rules/install.rs:123:'` with MUTANTS_ORACLE=all.
    "correlate|analysis/src/correlate.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE"
    "skew|analysis/src/skew.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE"
    "phases|analysis/src/phases.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE"
    "rules|analysis/src/rules/*.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE"
    "analyze|src/commands/analyze.rs||"
    "junit|src/render/junit.rs||"
)

usage() {
    sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//' >&2
    echo "modules: $(for m in "${MODULES[@]}"; do printf '%s ' "${m%%|*}"; done)" >&2
    exit 1
}

mode=run
selected=()
extra=()
while (($#)); do
    case "$1" in
        --list) mode=list ;;
        --table) mode=table ;;
        -h | --help) usage ;;
        --) shift; extra=("$@"); break ;;
        -*) echo "mutants.sh: unknown option $1" >&2; usage ;;
        *) selected+=("$1") ;;
    esac
    shift
done

entry_of() {
    local m
    for m in "${MODULES[@]}"; do
        if [[ "${m%%|*}" == "$1" ]]; then
            echo "$m"
            return
        fi
    done
    echo "mutants.sh: no module '$1'" >&2
    usage
}

if ((${#selected[@]} == 0)); then
    for m in "${MODULES[@]}"; do selected+=("${m%%|*}"); done
fi
entries=()
for name in "${selected[@]}"; do entries+=("$(entry_of "$name")"); done

if [[ $mode == list ]]; then
    total=0
    printf '%-10s %-28s %8s\n' module file mutants
    for e in "${entries[@]}"; do
        IFS='|' read -r name file _ <<<"$e"
        n=$(cargo mutants --workspace --list --file "$file" | wc -l)
        total=$((total + n))
        printf '%-10s %-28s %8d\n' "$name" "$file" "$n"
    done
    printf '%-10s %-28s %8d\n' total "" "$total"
    exit 0
fi

status=0
if [[ $mode == run ]]; then
    jobs=${MUTANTS_JOBS:-$(nproc)}
    for e in "${entries[@]}"; do
        IFS='|' read -r name file tests targets <<<"$e"
        out=target/mutants/$name
        mkdir -p "$out"
        args=(--workspace --file "$file" --jobs "$jobs" --output "$out" --no-shuffle)
        [[ -n $tests ]] && args+=(--test-package "$tests")
        if [[ -n $targets && ${MUTANTS_ORACLE:-} != all ]]; then
            for t in $targets; do args+=("--cargo-test-arg=$t"); done
        fi
        echo "== $name: cargo mutants ${args[*]} ${extra[*]:-}" >&2
        start=$SECONDS
        rc=0
        cargo mutants "${args[@]}" ${extra[@]+"${extra[@]}"} || rc=$?
        echo "$((SECONDS - start))" >"$out/seconds"
        # 2: mutants missed, 3: timeouts; anything else means the run itself did not go through.
        case $rc in
            0 | 2 | 3) ;;
            *) echo "mutants.sh: $name: cargo mutants exited $rc (4: the baseline fails)" >&2; status=1 ;;
        esac
    done
fi

# The table: counts from outcomes.json (the .txt lists when it is missing), score = caught / (caught +
# missed + timeout); unviable mutants (they do not build) do not count.
printf '\n%-10s %8s %7s %7s %8s %9s %7s %9s\n' module mutants caught missed timeout unviable score time
for e in "${entries[@]}"; do
    IFS='|' read -r name _ _ <<<"$e"
    dir=target/mutants/$name/mutants.out
    if [[ -f $dir/outcomes.json ]]; then
        read -r total caught missed timeout unviable < <(python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
print(o["total_mutants"], o["caught"], o["missed"], o["timeout"], o["unviable"])' "$dir/outcomes.json")
    elif [[ -f $dir/caught.txt ]]; then
        count() { if [[ -f $dir/$1.txt ]]; then grep -c . "$dir/$1.txt" || true; else echo 0; fi; }
        caught=$(count caught) missed=$(count missed) timeout=$(count timeout) unviable=$(count unviable)
        total=$((caught + missed + timeout + unviable))
    else
        printf '%-10s %8s\n' "$name" "no results"
        continue
    fi
    judged=$((caught + missed + timeout))
    if ((judged > 0)); then
        score=$(awk -v c="$caught" -v j="$judged" 'BEGIN { printf "%.1f%%", 100 * c / j }')
    else
        score=-
    fi
    seconds=$(cat "target/mutants/$name/seconds" 2>/dev/null || echo '')
    printf '%-10s %8d %7d %7d %8d %9d %7s %9s\n' "$name" "$total" "$caught" "$missed" "$timeout" "$unviable" \
        "$score" "${seconds:+${seconds}s}"
done
exit $status
