"""Every fault of an input table at once.

A table is checked with pandera's lazy validation (every column, every check, every row), and the
faults come back as one tidy table, :data:`COLUMNS`: the file, the row as a spreadsheet shows it (the
header is row 1), the column, the value as it stands in the file, the severity, the problem in words
and what to do (where the problem's words do not say it). A table with faults raises
:class:`ValidationError`, which says how many there are, shows the first, and names the report
(``validation.csv``) where all of them are listed, so a sheet with 40 faults is cleaned in one pass
rather than in 40 runs. Severity ``error`` stops; ``warning`` (an image with burned-in text, say) is
listed in the same report and does not.

Checks are declared with an ``error`` text that may name the value (``"{value!r} is not a number"``);
the text is filled in per fault.

Examples
--------
>>> import pandas as pd, pandera.pandas as pa
>>> schema = pa.DataFrameSchema({"sex": pa.Column(str, pa.Check.isin(["F", "M"],
...                              error="unknown sex code {value!r} (expected F or M)"))})
>>> faults(schema, pd.DataFrame({"sex": ["F", "X", "W"]}), "clinical.csv")[["row", "column", "problem"]].values.tolist()
[[3, 'sex', "unknown sex code 'X' (expected F or M)"], [4, 'sex', "unknown sex code 'W' (expected F or M)"]]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic
from .errors import InputError

__all__ = ["COLUMNS", "ValidationError", "BUILT_IN", "faults", "summary", "check", "combine", "errors", "table"]

COLUMNS = ("file", "row", "column", "value", "severity", "problem", "what_to_do")
_BASE = ("file", "row", "column", "value", "problem")


class ValidationError(InputError):
    """An input table with faults: ``faults`` holds all of them (:data:`COLUMNS`), ``report`` the
    file they were written to (or None)."""

    def __init__(self, file: str | Path, faults: pd.DataFrame, report: str | Path | None = None):
        self.faults, self.report = table(faults).reset_index(drop=True), report
        self.warnings = int((self.faults["severity"] == "warning").sum())
        first = errors(self.faults).iloc[0] if len(errors(self.faults)) else self.faults.iloc[0]
        faults = errors(self.faults) if len(errors(self.faults)) else self.faults
        row = None if pd.isna(first["row"]) else int(first["row"])
        column = first["column"] or None
        also = f" (with {self.warnings} warning(s))" if self.warnings and len(faults) < len(self.faults) else ""
        tail = f"; listed in {report}{also}" if report else also
        if len(faults) == 1:  # as any InputError: "file, row r, column 'c': problem"
            super().__init__(file, f"{first['problem']}{tail}", row=row, column=column)
            return
        where = ", ".join([f"row {row}"] * (row is not None) + [f"column {column!r}"] * (column is not None))
        per_file = faults.groupby("file", sort=False).size()
        if len(per_file) > 1:  # e.g. the clinical sheet's and the landmark sheet's
            count = f"{len(faults)} faults ({', '.join(f'{n} in {Path(f).name}' for f, n in per_file.items())})"
        else:
            count = (f"{len(faults)} faults in {faults['row'].dropna().nunique()} row(s) and "
                     f"{faults['column'].nunique()} column(s)")
        if first["file"] != str(file):
            where = f"{first['file']}, {where}" if where else str(first["file"])
        super().__init__(file, f"{count}; the first: {where + ': ' if where else ''}{first['problem']}"
                               + (f"; all are listed in {report}{also}" if report else also))
        self.row, self.column = row, column


#: Words for pandera's own checks (the schema's ``unique`` rows: the first column of the key is named).
BUILT_IN = {"multiple_fields_uniqueness": "{value!r} again: a second row with the same {key}"}


def faults(schema, df: pd.DataFrame, file: str | Path) -> pd.DataFrame:
    """All faults of ``df`` (read as text, index 0..n-1 for the data rows) against a pandera ``schema``."""
    import pandera.pandas as pa  # lazy: pandera takes about a second to import; only validation needs it
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as e:
        return _tidy(e.failure_cases, df, str(file), list(schema.unique or []))
    return table(pd.DataFrame(columns=_BASE))


def table(faults: pd.DataFrame | list) -> pd.DataFrame:
    """Faults (a table with at least file, row, column, value, problem, or such tuples) in :data:`COLUMNS`:
    severity ``error`` and no words on what to do where they are not given."""
    df = pd.DataFrame(faults, columns=list(_BASE)) if isinstance(faults, list) else faults.copy()
    if "severity" not in df:
        df["severity"] = "error"
    if "what_to_do" not in df:
        df["what_to_do"] = ""
    df["severity"] = df["severity"].fillna("error").replace("", "error")
    df["what_to_do"] = df["what_to_do"].fillna("")
    return df[list(COLUMNS)]


def errors(faults: pd.DataFrame) -> pd.DataFrame:
    """The faults that stop (severity ``error``)."""
    return faults[faults["severity"] != "warning"] if "severity" in faults else faults


def _tidy(cases: pd.DataFrame, df: pd.DataFrame, file: str, key: list[str]) -> pd.DataFrame:
    rows = []
    for c in cases.itertuples(index=False):
        if c.check in BUILT_IN:
            if key and c.column != key[0]:
                continue  # one fault per duplicated row, named by the key's first column
            c = c._replace(check=BUILT_IN[c.check].replace("{key}", " and ".join(key)))
        if c.check == "column_in_dataframe":
            rows.append((file, np.nan, c.failure_case, "", f"missing column (expected {', '.join(df.attrs.get('expected', []))})"
                         if df.attrs.get("expected") else "missing column"))
            continue
        if c.check in ("dataframe_not_empty",) or str(c.check).startswith("dataframe"):
            rows.append((file, np.nan, "", "", str(c.check)))
            continue
        index = int(c.index) if pd.notna(c.index) else None
        value = df.iloc[index][c.column] if index is not None and c.column in df else c.failure_case
        problem = str(c.check).format(value=value, first=_first_row(df, c.column, value))
        rows.append((file, index + 2 if index is not None else np.nan, c.column or "", value, problem))
    out = table(pd.DataFrame(rows, columns=_BASE).drop_duplicates())
    out["row"] = out["row"].astype("Int64")
    return out.sort_values(["row", "column"], na_position="first", kind="stable").reset_index(drop=True)


def _first_row(df: pd.DataFrame, column, value) -> int | str:
    """The spreadsheet row where ``value`` first stands in ``column`` (for a duplicate's message)."""
    if column not in df:
        return "?"
    hits = np.flatnonzero(df[column].to_numpy() == value)
    return int(hits[0]) + 2 if len(hits) else "?"


def summary(table: pd.DataFrame, examples: int = 3, width: int = 80) -> pd.DataFrame:
    """Counts per file, column and kind of problem, with the first rows of each.

    The kind is the problem's text with its values left out (quoted text, a leading number and
    numbers in parentheses become ``...``), cut at ``width`` characters.
    """
    kind = (table["problem"].astype(str).str.replace(r"'[^']*'", "'...'", regex=True)
            .str.replace(r"^-?\d[\d.eE+-]*(?= )", "...", regex=True)
            .str.replace(r"row \d+", "row ...", regex=True)
            .str.replace(r"\([-\d., x]+(?: px)?\)", "(...)", regex=True))
    kind = kind.where(kind.str.len() <= width, kind.str.slice(0, width - 3) + "...")
    table = table.assign(severity=table["severity"]) if "severity" in table else table.assign(severity="error")
    g = table.assign(file=table["file"].map(lambda f: Path(str(f)).name), kind=kind).groupby(
        ["file", "column", "severity", "kind"], sort=False)
    return pd.DataFrame({"faults": g.size(), "first rows": g["row"].apply(
        lambda r: ", ".join(str(int(x)) for x in r.dropna().head(examples)))}).reset_index()


def check(schema, df: pd.DataFrame, file: str | Path, report: str | Path | None = None) -> None:
    """Raise :class:`ValidationError` listing every fault of ``df``; with ``report``, write the table
    of faults there first (atomically), so the message can point to it."""
    found = faults(schema, df, file)
    if len(found):
        if report is not None:
            atomic.write_csv(found, report)
        raise ValidationError(file, found, report)


def combine(*tables: pd.DataFrame) -> pd.DataFrame:
    """Several tables of faults as one (e.g. the clinical table's and the landmarks'), in :data:`COLUMNS`."""
    parts = [table(t) for t in tables if len(t)]
    return pd.concat(parts, ignore_index=True) if parts else table(pd.DataFrame(columns=_BASE))
