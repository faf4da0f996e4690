"""The benchmark runs end to end and writes its table (it is a benchmark: no timing is asserted)."""
from __future__ import annotations

import pandas as pd

from osteolib import bench


def test_benchmark_writes_its_table(tmp_path):
    out = tmp_path / "bench.csv"
    assert bench.main(["--backbones", "resnet18", "--size", "32", "48", "--epochs", "1", "--device", "cpu",
                       "--out", str(out)]) == 0
    table = pd.read_csv(out)
    for col in ("project_epoch_s", "project_train_s", "bare_train_s", "naive_epoch_s", "speedup_vs_naive",
                "train_ratio_vs_bare"):
        assert col in table.columns and (table[col] > 0).all()
    assert out.with_suffix(".md").read_text().startswith("| backbone")
