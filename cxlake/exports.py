"""Files made for people to open in Excel: text that a spreadsheet would run as a formula is defused.

Quarantined rows are, by definition, data we did not trust; a delivered value such as
``=HYPERLINK(...)`` or ``@SUM(...)`` must not become a live formula on a steward's machine (CSV/formula
injection). Only text cells are touched, by prefixing a ``'``; numbers, dates and booleans keep their
type, so a negative amount stays a number. Outputs meant for further processing keep values as they are.

What counts as "starts a formula" is decided on the first visible character after NFKC, so the
full-width ``＝＋－＠`` (which IMEs type and some spreadsheets accept), the small ``﹦﹢﹣﹫``, the minus
sign ``−`` and a prefix hidden behind spaces or zero-width characters are defused like ``=``; a
leading tab, carriage return or line feed is defused whatever follows it.
"""

from __future__ import annotations

import io
import os
import unicodedata
from pathlib import Path

import pandas as pd

from cxlake.paths import OWNER_ONLY_FILE

# What Excel, LibreOffice and Google Sheets treat as the start of a formula (OWASP's list), after NFKC.
FORMULA_PREFIXES = frozenset("=+-@")
# Characters that start a cell's text and may make a spreadsheet split or evaluate it.
CONTROL_PREFIXES = ("\t", "\r", "\n")
# Look-alikes NFKC keeps apart from their ASCII forms: MINUS SIGN, HEAVY MINUS and PLUS SIGNS.
_LOOK_ALIKES = frozenset("\u2212\u2796\u2795")


def starts_formula(value: str) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula: a control character first, or a
    formula sign (in any width) as the first character that is not a space or invisible."""
    if value.startswith(CONTROL_PREFIXES):
        return True
    for char in value:
        if char.isspace() or unicodedata.category(char) == "Cf":
            continue
        return char in _LOOK_ALIKES or unicodedata.normalize("NFKC", char)[:1] in FORMULA_PREFIXES
    return False


def _defuse(value: object) -> object:
    if isinstance(value, str) and starts_formula(value):
        return "'" + value
    return value


def excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) cannot start a formula."""
    safe = frame.copy()
    for column in safe.columns:
        series = safe[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            safe[column] = series.astype(object).map(_defuse)
    safe.columns = [_defuse(column) for column in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame, *, excel_safe_cells: bool = True) -> bytes:
    """UTF-8 CSV with a BOM, so Excel opens Chinese text correctly; defused unless told otherwise."""
    data = excel_safe(frame) if excel_safe_cells else frame
    return data.to_csv(index=False).encode("utf-8-sig")


def to_xlsx_bytes(frame: pd.DataFrame, *, excel_safe_cells: bool = True, sheet_name: str = "data") -> bytes:
    """An .xlsx workbook of one sheet; defused unless told otherwise."""
    data = excel_safe(frame) if excel_safe_cells else frame
    data = data.apply(_without_timezone)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        data.to_excel(writer, index=False, sheet_name=sheet_name)
    return buffer.getvalue()


def _without_timezone(series: pd.Series) -> pd.Series:
    """Excel has no time zones: timestamps are written in UTC (openpyxl refuses aware datetimes)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series


class OutputEncodingError(ValueError):
    """An output file cannot be written in the encoding asked for; the message names the file."""


def write_csv(frame: pd.DataFrame, out_path: Path, encoding: str) -> None:
    """``frame`` as CSV in ``encoding`` (an analyst's gb18030 for Excel, say), values as they are: the
    CLIs' outputs are for further processing. A character the encoding lacks is named, not replaced."""
    data = frame.to_csv(index=False, lineterminator="\n")
    try:
        encoded = data.encode(encoding)
    except LookupError:
        raise OutputEncodingError(f"unknown output encoding {encoding!r}") from None
    except UnicodeEncodeError as error:
        raise OutputEncodingError(
            f"{out_path}: {encoding} cannot encode {error.object[error.start]!r}"
        ) from None
    write_owner_only(out_path, encoded)


def write_owner_only(out_path: Path, data: bytes) -> None:
    """Write ``data`` to ``out_path``, a file only its owner can read (0600, whatever the umask):
    an export holds customers' rows, and the person who asked for it decides whom to give it to.
    An existing file is replaced and made 0600 too."""
    descriptor = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), OWNER_ONLY_FILE)
        handle.write(data)
