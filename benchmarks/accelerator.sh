#!/usr/bin/env bash
# One prepared run on a machine with an accelerator (the GPU figures in the notes come from it):
# the test suite, the influence benchmark, the kNN selection benchmark and part of the scaling
# one, each under its own time limit so that one slow step cannot starve the rest. Results and
# logs go to $OUT (default /tmp/accelerator-run). Wheels of packages the machine lacks (shap for
# the influence benchmark) may be put in .whl/. QUICK=1 runs the benchmarks' quick modes (a dry run).
# STEPS picks the steps (default all four, about 560 s of limits in all: split them over two
# calls when a call may run at most 600 s), e.g. STEPS="influence knn".
set -uo pipefail
OUT=${OUT:-/tmp/accelerator-run}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false SHALLOWNET_BENCH_RESULTS="$OUT"
PY=${PY:-python3}
if compgen -G ".whl/*.whl" > /dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH="/tmp/site:$PWD"
else
    export PYTHONPATH="$PWD"
fi
quick=""
[ "${QUICK:-0}" = 1 ] && quick="--quick"
STEPS=${STEPS:-tests influence knn scaling}
wanted() { [[ " $STEPS " == *" $1 "* ]]; }
step() {  # step NAME SECONDS COMMAND...: run with a limit, log to $OUT/NAME.log, print the tail
    local name=$1 limit=$2; shift 2
    local start=$SECONDS
    timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "=== $name: exit $rc after $((SECONDS - start)) s (limit $limit s)"
    tail -n "${TAIL:-25}" "$OUT/$name.log"
}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  "$PY" -c "import jax, sys; print(sys.version.split()[0], 'jax', jax.__version__, jax.devices())"; } | tee "$OUT/machine.txt"
xdist=""
"$PY" -c "import xdist" 2>/dev/null && xdist="-n ${PYTEST_WORKERS:-8}"
# -v names every test as it ends, so a run cut by its limit still shows what failed (FAILED
# lines are collected at the end of the step). On an H200 the suite needed more than 150 s
# with 8 workers (about 90 % done at 150 s) and more than 185 s with 16.
if wanted tests; then
    step tests "${TESTS_LIMIT:-240}" "$PY" -m pytest -v --tb=short -p no:cacheprovider -p no:benchmark $xdist \
        ${PYTEST_ARGS:-tests}
    grep -E "FAILED|ERROR" "$OUT/tests.log" | head -20
fi
wanted influence && step bench_influence "${INFLUENCE_LIMIT:-110}" "$PY" -m benchmarks.bench_influence $quick \
    ${INFLUENCE_ARGS:-}
# The selection primitives on the accelerator, and the whole EI at several chunk sizes (auto is
# about 1,000 cases per kNN chunk on a GPU; the CPU's default was 64): picks the GPU default.
wanted knn && step bench_knn_selection "${KNN_LIMIT:-90}" "$PY" -m benchmarks.bench_knn_selection $quick \
    --ei-chunks ${EI_CHUNKS:-auto 64 4096}
wanted scaling && step bench_scaling "${SCALING_LIMIT:-120}" "$PY" -m benchmarks.bench_scaling $quick \
    --sizes ${SCALING_SIZES:-100000 1000000} \
    --methods "train epoch (in-device)" "EI (kNN)" "derivatives" "binning MI"
