"""The benchmark runs end to end and writes its table (it is a benchmark: no timing is asserted)."""
from __future__ import annotations

import pandas as pd
import pytest

from osteolib import bench


def test_benchmark_writes_its_table(tmp_path):
    out = tmp_path / "bench.csv"
    # a small fold: the test is about the table, not the timing (the paper's 553 + 225 is the default)
    assert bench.main(["--backbones", "resnet18", "--size", "32", "48", "--epochs", "1", "--device", "cpu",
                       "--fold", "64", "32", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    for col in ("project_epoch_s", "project_train_s", "bare_train_s", "naive_epoch_s", "speedup_vs_naive",
                "train_ratio_vs_bare"):
        assert col in table.columns and (table[col] > 0).all()
    assert out.with_suffix(".md").read_text().startswith("| backbone") and (table["fold"] == "64+32").all()


def test_a_benchmark_cut_short_keeps_the_backbones_it_finished(tmp_path, monkeypatch):
    real = bench.bare_step

    def bare_or_die(backbone, *args, **kwargs):
        if backbone == "resnet50":  # stands in for a time limit killing the run on the second backbone
            raise KeyboardInterrupt
        return real(backbone, *args, **kwargs)
    monkeypatch.setattr(bench, "bare_step", bare_or_die)
    out = tmp_path / "bench.csv"
    try:
        bench.main(["--backbones", "resnet18", "resnet50", "--size", "32", "48", "--epochs", "1", "--fold", "40", "20",
                    "--device", "cpu", "--skip-naive", "--out", str(out)])
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the second backbone should have been interrupted")
    assert pd.read_csv(out)["backbone"].tolist() == ["resnet18"]


@pytest.mark.slow
def test_parallel_workers_are_timed_together_after_their_warm_up(tmp_path):
    """K workers warm up, wait at the barrier and are released at once: the clock covers only their
    timed epochs (the warm-up's imports and autotuning are outside it)."""
    import threading
    import time
    released = []
    folder = tmp_path / "barrier"
    folder.mkdir()
    waits = [threading.Thread(target=lambda i=i: (bench._file_barrier(folder, i)(), released.append(i)))
             for i in range(2)]
    for t in waits:
        t.start()
    time.sleep(0.3)
    assert released == [] and sorted(f.name for f in folder.iterdir()) == ["ready-0", "ready-1"]
    (folder / "go").touch()
    for t in waits:
        t.join(timeout=5)
    assert sorted(released) == [0, 1]
    row = bench.parallel("resnet18", (32, 48), 2, "cpu", epochs=1, fold=(64, 32))
    assert 0 < row["parallel2_fold_epoch_s"] and row["parallel2_timed_wall_s"] == 2 * row["parallel2_fold_epoch_s"]


@pytest.mark.slow
def test_a_parallel_worker_that_fails_stops_the_measurement():
    import pytest
    with pytest.raises(RuntimeError, match="ended before its timed epochs"):
        bench.parallel("no-such-backbone", (32, 48), 2, "cpu", epochs=1)


def test_protocol_cost_from_the_committed_device_run_matches_the_docs():
    """benchmarks/protocol_cost.py recomputes the performance page's protocol cost from the raw files of
    the device run it quotes (benchmarks/results/...): numbers and docs cannot drift apart (the page's
    tables are generated from the same files, docs/generate.py, and checked in tests/test_docs.py)."""
    import importlib.util
    import io
    from contextlib import redirect_stdout

    from osteolib import paths
    spec = importlib.util.spec_from_file_location("protocol_cost", paths.ROOT / "benchmarks" / "protocol_cost.py")
    cost = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cost)
    assert cost.makespan([3, 3, 2, 2, 2], 2) == 7 and cost.makespan([1, 1, 1, 1], 4) == 1
    folder = paths.ROOT / "benchmarks" / "results" / "2026-11-27-h200"
    table, epochs = cost.costs(folder)
    assert epochs == {"ensemble": 54.0, "image": 40.6}
    total, bound = table.gpu_hours.sum(), table.bound_hours.sum()
    page = (paths.ROOT / "docs" / "explanation" / "performance-tables.md").read_text()
    assert f"**{total:.1f}** | **{bound:.1f}** | **{total / bound:.2f}**" in page
    out = io.StringIO()
    with redirect_stdout(out):
        assert cost.main([str(folder)]) == 0
    assert "| 4 | 4.8 |" in out.getvalue() and "| 4 | 4.8 |" in page
