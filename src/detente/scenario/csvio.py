"""Reading the rows and numbers of CSV-like user files (actor tables, KTAB and DECIDE files).

Spreadsheet programs write a UTF-8 BOM (dropped by :func:`~detente.scenario.yamlio.read_text`)
and, in many locales, ``;`` or tab separators: the separator is taken from the header line. Rows
are numbered by the line they start on, so a quoted cell spanning lines does not shift the
numbers of the rows after it. A cell over :data:`~detente.scenario.limits.MAX_CSV_CELL`
characters, a NUL byte or an unclosed quote is a one-line :class:`~detente.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import math
import re

from detente.errors import InputError
from detente.scenario.limits import MAX_CSV_CELL, MAX_MAGNITUDE, MIN_MAGNITUDE, tiny

#: A decimal number in ASCII (float() would also take '1_000', 'nan', 'inf' and other scripts'
#: digits).
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
SEPARATORS = (",", ";", "\t")


def sniff_separator(text: str) -> str:
    """The separator of a table: whichever of ``,`` ``;`` and tab its first line has most of."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return max(SEPARATORS, key=lambda sep: (first.count(sep), sep == ","))


def csv_rows(
    text: str, file: str, delimiter: str = ",", quotechar: str = '"'
) -> list[tuple[int, list[str]]]:
    """Non-blank rows, cells stripped, each with the line number where it starts."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quotechar)
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            cells = [c.strip() for c in row]
            if any(cells):
                out.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        text_of = str(exc)
        if "field larger than field limit" in text_of:
            what = f"a cell longer than {MAX_CSV_CELL:,} characters"
        elif "NUL" in text_of:
            what = "a NUL byte: not a text file"
        else:
            what = f"not a valid CSV row ({' '.join(text_of.split())})"
        raise InputError(file, f"line {start}", what) from None
    return out


def parse_number(raw: str) -> float | None:
    """A finite number written in ASCII decimal, or None."""
    if not NUMBER.fullmatch(raw):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def number_problem(raw: str) -> str:
    """What is wrong with a cell that :func:`parse_number` refused, in one line."""
    shown = repr(raw) if len(raw) <= 40 else repr(raw[:37] + "...")
    try:
        finite = math.isfinite(float(raw))
    except ValueError:
        finite = True
    what = "a finite number" if not finite else "a number"
    return f"expected {what}, got {shown}"


def bounded(value: float, file: str, where: str, what: str = "") -> float:
    """``value`` if it is 0 or between ``MIN_MAGNITUDE`` and ``MAX_MAGNITUDE`` in size, else an
    :class:`InputError` (a larger one overflows the engines' sums, a smaller one underflows their
    products)."""
    if abs(value) > MAX_MAGNITUDE:
        raise InputError(file, where, f"{what}{value:g} is beyond +-{MAX_MAGNITUDE:g}")
    if tiny(value):
        raise InputError(file, where, f"{what}{value:g}: give 0 or at least {MIN_MAGNITUDE:g}")
    return value
