#!/bin/sh
# Run the libFuzzer targets next to this script and report each as a test:
#   ok - fuzz/<name>
#   not ok - fuzz/<name>: <why> (log: <file>)
# then "N passed, N failed"; exit status 1 if one failed.  tests/run_all.py
# runs it like a host test binary (the Makefile copies it to build/fuzz/).
#
#   run_fuzz [name...]        default: every fuzz_* binary beside the script
#   FUZZ_RUNS=20000           inputs per target, from -seed=1 and an empty
#                             corpus, inputs up to 96 bytes from the start:
#                             the same run every time (make test, ~20 s)
#   FUZZ_TIME=300             seconds per target instead, inputs growing up
#                             to 1024 bytes (make fuzz)
#   FUZZ_CORPUS=dir           keep and grow a corpus in dir/<name> (make fuzz)
#   FUZZ_MAXLEN=n             override the input size limit
# A crashing input is saved as <dir of the script>/<name>-crash-*; replay it
# with: build/fuzz/<name> <file>.
dir=$(cd "$(dirname "$0")" && pwd)
runs=${FUZZ_RUNS:-20000}
names=$*
if [ -z "$names" ]; then
    for f in "$dir"/fuzz_*; do
        [ -x "$f" ] && names="$names $(basename "$f")"
    done
fi
pass=0
fail=0
for name in $names; do
    bin=$dir/$name
    log=$dir/$name.log
    if [ -n "$FUZZ_CORPUS" ]; then
        corpus=$FUZZ_CORPUS/$name
    else
        corpus=$dir/corpus-run/$name
        rm -rf "$corpus"
    fi
    mkdir -p "$corpus"
    if [ -n "$FUZZ_TIME" ]; then
        limit="-max_total_time=$FUZZ_TIME -max_len=${FUZZ_MAXLEN:-1024}"
    else
        limit="-runs=$runs -max_len=${FUZZ_MAXLEN:-96} -len_control=0"
    fi
    if [ ! -x "$bin" ]; then
        echo "not ok - fuzz/$name: $bin is missing"
        fail=$((fail + 1))
        continue
    fi
    start=$(date +%s)
    "$bin" -seed=1 $limit -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="$dir/$name-" -print_final_stats=1 "$corpus" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "ok - fuzz/$name"
        echo "  $name: ${done_runs:-?} inputs in ${secs} s" >&2
        pass=$((pass + 1))
    else
        why=$(grep -m 1 -E '^fuzz_[a-z]+: |ERROR: |runtime error|SUMMARY: ' "$log" | cut -c 1-200)
        echo "not ok - fuzz/$name: exit $rc: ${why:-see the log} (log: $log)"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
