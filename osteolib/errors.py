"""The two errors a user meets: bad input data (naming the file, the row and the column at fault)
and a bad parameter (naming it, and what would have been valid)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["InputError", "ParameterError", "first_bad_row", "read_text_csv"]


class InputError(ValueError):
    """Bad input data.

    Parameters
    ----------
    file : path of the offending file.
    message : what is wrong, in words a data manager understands.
    row : the row as a spreadsheet shows it (the header is row 1, the first patient row 2),
        or None when the fault is not in a row.
    column : the offending column, or None.

    Examples
    --------
    >>> str(InputError("clinical.csv", "unknown sex code 'X' (expected F or M)", row=3, column="sex"))
    "clinical.csv, row 3, column 'sex': unknown sex code 'X' (expected F or M)"
    """

    def __init__(self, file: str | Path, message: str, row: int | None = None,
                 column: str | None = None):
        self.file, self.row, self.column, self.reason = str(file), row, column, message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class ParameterError(ValueError):
    """A parameter that is unknown, of the wrong type or out of range (a notebook parameter, a
    profile value, a backbone or arm name); the message says what would have been valid."""


def first_bad_row(bad, file: str | Path, column: str | None, message) -> None:
    """Raise :class:`InputError` at the first True of ``bad`` (one flag per data row).

    ``message(i)`` builds the text from the 0-based row index ``i``; the error names the row as a
    spreadsheet shows it (``i + 2``: the header is row 1).

    >>> first_bad_row([False, True], "x.csv", "age", lambda i: f"row index {i}")
    Traceback (most recent call last):
    ...
    osteolib.errors.InputError: x.csv, row 3, column 'age': row index 1
    """
    flags = [bool(b) for b in bad]
    if any(flags):
        i = flags.index(True)
        raise InputError(file, message(i), row=i + 2, column=column)


def read_text_csv(file: str | Path, columns, what: str = "file not found") -> pd.DataFrame:
    """A CSV read as text (no type guessing, empty cells stay ""), after checking that it exists and
    has ``columns``; :class:`InputError` naming the file (and the missing column) otherwise. Rows are
    validated by the caller, e.g. with :func:`first_bad_row`.
    """
    file = Path(file)
    if not file.is_file():
        raise InputError(file, what)
    df = pd.read_csv(file, dtype=str, keep_default_na=False)
    for col in columns:
        if col not in df.columns:
            raise InputError(file, f"missing column (expected {', '.join(columns)})", column=col)
    return df
