#!/usr/bin/env bash
# The GPU checks of the training engine (issue 3), as one command on a GPU machine; results under $OUT,
# each stage's files written as soon as it ends, so a stage cut off by its time limit loses only itself.
#
#   benchmarks/device_check.sh [STAGE ...]     (default: bench18 paper others; "rest" is extra)
#
#   bench18  the epoch benchmark for resnet18: project vs naive loop vs bare step, and 4 folds at once
#   paper    one repeat of the paper profile for resnet18, both arms (folds_at_once of the profile)
#   others   efficientnet-b0 and resnet152: project vs bare step, and 4 folds at once (no naive loop:
#            the 5x target is resnet18's)
#   rest     resnet50, efficientnet-b3, efficientnet-b7 the same way
#
# The default stages take about 9-10 minutes on an H100 (bench18 ~100 s, paper ~230 s, others
# ~190 s with EfficientNet's cuDNN autotuning). Wheels for packages the machine lacks can travel in
# .whl/ (see ../shared/tools/wheelhouse.sh).
set -u
OUT=${OUT:-/tmp/osteolib-device}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD
fi
stages=${*:-bench18 paper others}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
  for stage in $stages; do
    echo "== stage $stage ($(date -u +%T))"
    case $stage in
      bench18) timeout 120 python3 -m osteolib.bench --backbones resnet18 --parallel 4 --out "$OUT/bench_resnet18.csv" ;;
      paper)
        timeout 300 python3 benchmarks/paper_repeat.py --work /tmp/paper --backbone resnet18 --no-pretrained \
          --report "$OUT/paper_resnet18.json"
        echo "paper repeat exit $?"
        for arm in image ensemble; do
          cp /tmp/paper/study/runs/resnet18/$arm/r00/history.csv "$OUT/history_$arm.csv" 2>/dev/null
        done ;;
      others) timeout 200 python3 -m osteolib.bench --backbones efficientnet-b0 resnet152 --skip-naive \
                --parallel 4 --out "$OUT/bench_others.csv" ;;
      rest) timeout 300 python3 -m osteolib.bench --backbones resnet50 efficientnet-b3 efficientnet-b7 --skip-naive \
              --parallel 4 --out "$OUT/bench_rest.csv" ;;
      *) echo "unknown stage $stage (bench18, paper, others, rest)" ;;
    esac
    echo "== stage $stage exit $? ($(date -u +%T))"
  done
} 2>&1 | tee "$OUT/log"
