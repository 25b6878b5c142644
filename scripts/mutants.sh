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
# The analysis modules (and the line formats) are judged in two passes: first by their crate's own unit tests
# alone (a mutant builds one crate and its tests run in 2 s; the formats' in 35 s), then only the mutants that pass survived
# (`--iterate`) by the end-to-end oracle as well. The score is the same as one pass of the full oracle
# (it includes the unit tests) for a fraction of the time. Pass 1's results are kept in
# target/mutants/<module>/pass1/.
# MUTANTS_ORACLE=all judges the analysis modules by every test of their packages instead of the
# answer-deciding ones named in MODULES (in one pass). MUTANTS_PASSES=1 runs pass 1 only (a quick check of
# new unit tests; the table marks such a module "unit").
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
# them) | optional: the tests of a quick first pass (of the file's own package) | optional: cargo arguments
# for every build and test of the module. The end-to-end tests are one binary, `it` (tests/it/), its tests named `<file>::<test>`; every unit
# test of a library is in a `tests` or `*_tests` module, so `tests::` selects them all and none of `it`.
# `--tests`, not `--lib --test it`: cargo applies target selectors to every package named, and only the
# root package has a test target `it` (nor does every package have a lib).
ANALYSIS_ORACLE="--tests -- tests:: bundles:: real_logs:: snapshots:: analyze:: --skip fuzz_bundles::"
# Pass 1 of the analysis modules: the analysis crate's unit tests (its own package, no --test-package).
ANALYSIS_QUICK="--lib"
MODULES=(
    # Pass 1 of the line formats: their own unit tests, with cmtrace-parsers built at opt-level 1 (the record
    # splitting test reads megabytes: 2 s instead of 35 s; the package's extractor property test alone takes
    # 60 s in a debug build).
    "format|parsers/src/format/*.rs|||--lib -- format::|--config profile.dev.package.cmtrace-parsers.opt-level=1"
    "decode|parsers/src/decode.rs||"
    "input|parsers/src/input.rs||"
    # The analysis modules are judged end to end as well: the rules (analysis/src/rules/, a module per
    # family) by their unit tests on testkit and by tests/it/bundles.rs (every fixture bundle's
    # expected.json). Only the tests that decide the answers:
    # the analysis crate's own (flow_tests and the unit tests), the fixture bundles (strict both ways), the
    # real logs, the report snapshots (every phase's status, reason and time, every finding's text) and the
    # analyze command's tests. Measured here: 40-60 s against 57-75 s for every test of the root package. A survivor
    # is worth re-running on the whole suite before writing a test for it:
    # `scripts/mutants.sh rules -- --re 'rules/install.rs:123:'` with MUTANTS_ORACLE=all.
    "correlate|analysis/src/correlate.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE|$ANALYSIS_QUICK"
    "skew|analysis/src/skew.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE|$ANALYSIS_QUICK"
    "phases|analysis/src/phases.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE|$ANALYSIS_QUICK"
    "rules|analysis/src/rules/*.rs|cmtrace-analysis,cmtrace-rs|$ANALYSIS_ORACLE|$ANALYSIS_QUICK"
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
        IFS='|' read -r name file tests targets quick cargo_args <<<"$e"
        out=target/mutants/$name
        mkdir -p "$out"
        base=(--workspace --file "$file" --jobs "$jobs" --output "$out" --no-shuffle)
        for a in ${cargo_args:-}; do base+=("--cargo-arg=$a"); done
        start=$SECONDS
        rm -rf "$out/pass1" "$out/iterated"
        passes=(full)
        [[ -n $quick && ${MUTANTS_ORACLE:-} != all ]] && passes=(quick full)
        [[ -n $quick && ${MUTANTS_PASSES:-2} == 1 ]] && passes=(quick)
        for pass in "${passes[@]}"; do
            args=("${base[@]}")
            if [[ $pass == quick ]]; then
                for t in $quick; do args+=("--cargo-test-arg=$t"); done
            else
                [[ -n $tests ]] && args+=(--test-package "$tests")
                if [[ -n $targets && ${MUTANTS_ORACLE:-} != all ]]; then
                    for t in $targets; do args+=("--cargo-test-arg=$t"); done
                fi
                # Only the mutants that pass 1 did not catch (nor found unviable).
                [[ ${#passes[@]} == 2 ]] && args+=(--iterate)
            fi
            echo "== $name ($pass): cargo mutants ${args[*]} ${extra[*]:-}" >&2
            rc=0
            cargo mutants "${args[@]}" ${extra[@]+"${extra[@]}"} || rc=$?
            # 2: mutants missed, 3: timeouts; anything else means the run itself did not go through.
            case $rc in
                0 | 2 | 3) ;;
                *) echo "mutants.sh: $name: cargo mutants exited $rc (4: the baseline fails)" >&2; status=1; break ;;
            esac
            if [[ $pass == quick ]]; then
                rm -rf "$out/pass1"
                cp -r "$out/mutants.out" "$out/pass1"
                # 0: pass 1 caught everything; nothing is left for pass 2.
                ((rc == 0)) && break
            elif ((${#passes[@]} == 2)); then
                touch "$out/iterated"
            fi
        done
        echo "$((SECONDS - start))" >"$out/seconds"
    done
fi

# The table: counts from outcomes.json (the .txt lists when it is missing), score = caught / (caught +
# missed + timeout); unviable mutants (they do not build) do not count.
printf '\n%-10s %8s %7s %7s %8s %9s %7s %9s %s\n' module mutants caught missed timeout unviable score time oracle
for e in "${entries[@]}"; do
    IFS='|' read -r name _ _ <<<"$e"
    dir=target/mutants/$name/mutants.out
    if [[ -f $dir/outcomes.json ]]; then
        # After two passes: pass 1's counts plus what pass 2 made of pass 1's survivors.
        second=
        oracle=all
        [[ -d target/mutants/$name/pass1 ]] && oracle=unit
        [[ -f target/mutants/$name/iterated ]] && second=$dir/outcomes.json && dir=target/mutants/$name/pass1 \
            && oracle=unit+e2e
        read -r total caught missed timeout unviable < <(python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
counts = [o["total_mutants"], o["caught"], o["missed"], o["timeout"], o["unviable"]]
if sys.argv[2]:
    p = json.load(open(sys.argv[2]))
    counts = [counts[0], counts[1] + p["caught"], p["missed"], p["timeout"], counts[4] + p["unviable"]]
print(*counts)' "$dir/outcomes.json" "$second")
    elif [[ -f $dir/caught.txt ]]; then
        count() { if [[ -f $dir/$1.txt ]]; then grep -c . "$dir/$1.txt" || true; else echo 0; fi; }
        caught=$(count caught) missed=$(count missed) timeout=$(count timeout) unviable=$(count unviable)
        total=$((caught + missed + timeout + unviable))
        oracle=all
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
    printf '%-10s %8d %7d %7d %8d %9d %7s %9s %s\n' "$name" "$total" "$caught" "$missed" "$timeout" "$unviable" \
        "$score" "${seconds:+${seconds}s}" "$oracle"
done
exit $status
