#!/usr/bin/env bash
# The GPU checks of the training engine, as one command on a GPU machine; results under $OUT,
# each stage's files written as soon as it ends, so a stage cut off by its time limit loses only itself.
#
#   benchmarks/device_check.sh [STAGE ...]     (default: paper bench18 others)
#
#   paper    one repeat of the paper profile for resnet18, both arms (benchmarks/paper_repeat.py);
#            a study already prepared under $WORK/study (cohort, splits, ROIs: made on a CPU machine with
#            `paper_repeat.py --prepare-only`) is trained at once, else the cohort is generated first
#   bench18  the epoch benchmark for resnet18: project vs naive loop vs bare step, and 4 folds at once
#   others   the five other backbones (efficientnet-b0, resnet50, resnet152, efficientnet-b3,
#            efficientnet-b7): project vs bare step, and 4 folds at once (no naive loop: the 5x
#            target is resnet18's), each in its own process and time box, into bench_<backbone>.csv
#
# Time boxes (seconds, each its own `timeout`): T_PAPER (300), T_BENCH18 (120), T_EACH (150, per
# backbone of `others`; on an H200 efficientnet-b3 with 4 folds at once needed more than 200);
# PAPER_ARGS adds options to paper_repeat.py (e.g. "--folds-at-once 5"), OTHER_EPOCHS sets the timed
# epochs of `others` (2). On an H100 the first form of these stages took bench18 ~100 s, paper ~230 s
# (generation included), efficientnet-b0 + resnet152 ~190 s (EfficientNet's cuDNN autotuning).
#
# What it needs beyond torch, torchvision, numpy, pandas, scipy, scikit-learn, pillow, tifffile, tqdm:
# efficientnet_pytorch, safetensors (the kept model), yaml (the profiles), tabulate (the markdown tables) and pingouin (the cohort
# table of notebook 01; with pandas-flavor and xarray, not statsmodels). A machine without them (and
# without a package index) takes wheels in .whl/, made beforehand on a machine with one:
#   pip download --only-binary=:all: --no-deps --python-version 3.12 -d .whl safetensors==0.8.0 PyYAML==6.0.3 tabulate==0.10.0 \
#     pingouin==0.7.0 pandas-flavor==0.7.0 xarray==2025.6.1
# (efficientnet-pytorch publishes only a source archive: build its wheel with `pip wheel --no-deps -w .whl`)
# REHEARSE=1 runs every stage at toy size (32 x 48 px benchmark, 0.1 x scale cohort, 1 epoch), to try
# the script on a CPU before spending device time on it.
set -u
OUT=${OUT:-/tmp/osteolib-device}
WORK=${WORK:-/tmp/osteolib-paper}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
bench=() other_epochs=(--epochs "${OTHER_EPOCHS:-2}") paper=(${PAPER_ARGS:-}) slow=1
if [ "${REHEARSE:-0}" = 1 ]; then
  bench=(--size 32 48) other_epochs=(--epochs 1) paper+=(--max-epochs 1) slow=5
  [ -d "$WORK/study/rois" ] || { paper+=(--scale 0.1); WORK=$(mktemp -d)/paper; }
fi
stages=${*:-paper bench18 others}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
  # every module the stages import, before any time is spent: a missing one is named here
  python3 -c "import osteolib.bench, osteolib.config, osteolib.cohort, osteolib.roi, osteolib.splits, \
osteolib.synthetic, osteolib.training, efficientnet_pytorch, safetensors, tabulate, pingouin; print('imports: ok')" 2>&1 | tail -1
  for stage in $stages; do
    echo "== stage $stage ($(date -u +%T))"
    case $stage in
      bench18) timeout $((${T_BENCH18:-120} * slow)) python3 -m osteolib.bench --backbones resnet18 --parallel 4 \
                 "${bench[@]}" --out "$OUT/bench_resnet18.csv" ;;
      paper)
        timeout $((${T_PAPER:-300} * slow)) python3 benchmarks/paper_repeat.py --work "$WORK" --backbone resnet18 \
          --no-pretrained "${paper[@]}" --report "$OUT/paper_resnet18.json"
        echo "paper repeat exit $?"
        # every fold's history and metrics of both arms, as one file (the machine returns at most 8)
        (cd "$WORK/study" && tar czf "$OUT/paper_runs.tgz" --exclude='*.safetensors' runs/resnet18 2>/dev/null) ;;
      others)  # each backbone in its own time box: one that autotunes for minutes cannot starve the rest
        for b in efficientnet-b0 resnet50 resnet152 efficientnet-b3 efficientnet-b7; do
          timeout $((${T_EACH:-150} * slow)) python3 -m osteolib.bench --backbones $b --skip-naive --parallel 4 \
            "${bench[@]}" "${other_epochs[@]}" --out "$OUT/bench_$b.csv"
          echo "== $b exit $? ($(date -u +%T))"
        done ;;
      *) echo "unknown stage $stage (paper, bench18, others)" ;;
    esac
    echo "== stage $stage exit $? ($(date -u +%T))"
  done
} 2>&1 | tee "$OUT/log"
