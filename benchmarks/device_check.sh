#!/usr/bin/env bash
# The GPU checks of the training engine, as one command on a GPU machine (results under $OUT):
# the epoch benchmark (project vs naive loop vs bare step; 4 folds at once for resnet18) and one
# repeat of the paper profile for resnet18, both arms. Wheels for packages the machine lacks can
# travel in .whl/ (see ../shared/tools/wheelhouse.sh).
set -u
OUT=${OUT:-/tmp/osteolib-device}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD
fi
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
  timeout 100 python3 -m osteolib.bench --backbones resnet18 --parallel 4 --out "$OUT/bench_resnet18.csv"
  timeout 190 python3 -m osteolib.bench --backbones efficientnet-b0 resnet152 --out "$OUT/bench_others.csv"
  timeout 290 python3 benchmarks/paper_repeat.py --work /tmp/paper --backbone resnet18 --no-pretrained \
    --report "$OUT/paper_resnet18.json"
  for arm in image ensemble; do cp /tmp/paper/study/runs/resnet18/$arm/r00/history.csv "$OUT/history_$arm.csv"; done
  echo "paper repeat exit $?"
} 2>&1 | tee "$OUT/log"
