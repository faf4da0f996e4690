"""Outputs appear whole or not at all: write to a temporary name beside the target, then rename.

``os.replace`` is atomic on POSIX and Windows when source and target are on the same file system,
which a sibling temporary file guarantees.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

__all__ = ["atomic_path", "atomic_dir", "write_csv", "write_text", "write_json"]

# The process's umask, read once (setting it to read it is not thread-safe): temporary files and
# folders are private (0600 / 0700), so what is renamed into place gets the permissions a plain
# open() would have given it, and a collaborator on a shared cluster can read the outputs.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def _publish(path: Path, folder: bool = False) -> None:
    os.chmod(path, (0o777 if folder else 0o666) & ~_UMASK)


@contextmanager
def atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path; on success it is renamed to ``target``, on error it is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("whole")
    >>> (d / "x.txt").read_text()
    'whole'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _publish(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` whole on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        _publish(tmp, folder=True)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_csv(df: pd.DataFrame, target: str | Path, **kwargs) -> Path:
    """Write a table atomically (no index unless asked)."""
    kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        df.to_csv(tmp, **kwargs)
    return Path(target)


def write_text(text: str, target: str | Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return Path(target)


def write_json(obj, target: str | Path) -> Path:
    return write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", target)
