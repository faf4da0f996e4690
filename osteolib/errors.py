"""The one error raised for bad input: it names the file, the row and the column at fault."""
from __future__ import annotations

from pathlib import Path


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
