"""Outputs appear whole or not at all, with the permissions a plain write would have given them."""
from __future__ import annotations

import os
import stat

import pytest

from osteolib import atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]
    with pytest.raises(RuntimeError):
        with atomic.atomic_dir(tmp_path / "r00") as tmp:
            (tmp / "predictions.csv").write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_outputs_get_the_permissions_of_a_plain_write_not_the_temporary_files(tmp_path):
    """mkstemp / mkdtemp make private 0600 / 0700 entries: on a shared cluster a collaborator could not
    read the study's outputs. What is renamed into place follows the umask like open() and mkdir()."""
    plain_file, plain_dir = tmp_path / "plain.txt", tmp_path / "plain"
    plain_file.write_text("x")
    plain_dir.mkdir()
    atomic.write_text("x", tmp_path / "out.txt")
    with atomic.atomic_dir(tmp_path / "r00") as tmp:
        with atomic.atomic_path(tmp / "metrics.json") as f:
            f.write_text("{}")
    assert _mode(tmp_path / "out.txt") == _mode(plain_file)
    assert _mode(tmp_path / "r00") == _mode(plain_dir)
    assert _mode(tmp_path / "r00" / "metrics.json") == _mode(plain_file)
