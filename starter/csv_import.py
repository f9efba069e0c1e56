"""Parse a CSV of leads into EnrollLead inputs, reporting every bad row by line number.

Pure functions over text: no Temporal, no network, so a file can be checked in full
before anything is enrolled. Columns (header row required):

- lead fields: id, email, first_name, last_name, company, timezone, phone,
  sms_consent, owner, segment
- `mode` (follow_up or nurture), optional `follow_up_cadence`, `nurture_cadence`
- `attr.<name>` into lead.attributes, `context.<name>` into the deal context

An empty cell means "not given", so the model's default applies.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from starter.errors import InvalidInput, Location, explain
from workflows.models import EnrollLead

LEAD_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "timezone",
    "phone",
    "sms_consent",
    "owner",
    "segment",
)
ENROLL_COLUMNS = ("mode", "follow_up_cadence", "nurture_cadence")
REQUIRED_COLUMNS = ("id", "email", "mode")
ATTR_PREFIX = "attr."
CONTEXT_PREFIX = "context."


class CsvFormatError(InvalidInput):
    """The file as a whole cannot be read (bad header, broken quoting): nothing is enrolled."""


@dataclass(frozen=True, kw_only=True)
class CsvLead:
    line: int
    enroll: EnrollLead


@dataclass(frozen=True, kw_only=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ParsedCsv:
    leads: list[CsvLead] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)


def read_leads(path: Path, *, speedup: float | None = None) -> ParsedCsv:
    return parse_leads(io.StringIO(decode_csv(path.read_bytes()), newline=""), speedup=speedup)


def decode_csv(data: bytes) -> str:
    """The file's text, or one line saying why it is not UTF-8 CSV and how to save it."""
    save_as = "save it as UTF-8 (in Excel: \u201cCSV UTF-8\u201d) and import again"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvFormatError(f"the file is UTF-16 text: {save_as}")
    if b"\x00" in data:
        raise CsvFormatError(f"the file is not CSV text (it holds NUL bytes: a spreadsheet or UTF-16?): {save_as}")
    try:
        # utf-8-sig: spreadsheets often save a byte-order mark that would corrupt the first column name.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvFormatError(
            f"line {line}: not UTF-8 text (byte 0x{data[error.start]:02X}, perhaps Latin-1 or Windows-1252): {save_as}"
        ) from None


def parse_leads(lines: Iterable[str], *, speedup: float | None = None) -> ParsedCsv:
    """Every data row becomes either a CsvLead or a BadRow; line numbers count the header as 1."""
    rows = _numbered_rows(lines)
    try:
        _, _, header = next(rows)
    except StopIteration:
        raise CsvFormatError("the file is empty: the first line must be a header row") from None
    columns = check_header(header)
    parsed = ParsedCsv()
    first_line_of: dict[str, int] = {}
    for line, end, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        swallowed = _swallowed_lines(cells, line, len(columns))
        if swallowed:
            reason = (
                f"a quote opened on line {line} is closed only on line {end}, so lines "
                f"{line + 1}-{end} were read into one cell: close the quote (a quote inside a cell is written \"\")"
            )
            parsed.bad_rows.append(BadRow(line=line, reason=reason))
            parsed.bad_rows.extend(
                BadRow(line=n, reason=f"read as part of the cell the quote on line {line} opened; not imported")
                for n in swallowed
            )
            continue
        if len(cells) != len(columns):
            parsed.bad_rows.append(
                BadRow(line=line, reason=f"has {len(cells)} fields but the header has {len(columns)}")
            )
            continue
        row = dict(zip(columns, cells, strict=True))
        lead_id = row["id"].strip()
        if lead_id in first_line_of:
            parsed.bad_rows.append(
                BadRow(line=line, reason=f"duplicate id {lead_id!r} (first on line {first_line_of[lead_id]})")
            )
            continue
        if lead_id:
            first_line_of[lead_id] = line
        try:
            enroll = EnrollLead.model_validate(row_to_input(row, speedup=speedup))
        except ValidationError as error:
            parsed.bad_rows.append(BadRow(line=line, reason=explain(error, field_name=column_of)))
            continue
        parsed.leads.append(CsvLead(line=line, enroll=enroll))
    return parsed


def check_header(header: list[str]) -> list[str]:
    columns = [name.strip() for name in header]
    known = set(LEAD_COLUMNS) | set(ENROLL_COLUMNS)
    unknown = [
        name
        for name in columns
        if name not in known and not _prefixed_name(name, ATTR_PREFIX) and not _prefixed_name(name, CONTEXT_PREFIX)
    ]
    if unknown:
        raise CsvFormatError(
            f"line 1: unknown column {', '.join(map(repr, unknown))}: use "
            f"{', '.join(LEAD_COLUMNS + ENROLL_COLUMNS)}, attr.<name> or context.<name>"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise CsvFormatError(f"line 1: column {', '.join(map(repr, repeated))} appears more than once")
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise CsvFormatError(f"line 1: required column {', '.join(map(repr, missing))} is missing")
    return columns


def row_to_input(row: dict[str, str], *, speedup: float | None = None) -> dict[str, Any]:
    """One row as the JSON-shaped dict EnrollLead validates; empty cells are left out."""
    lead: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    context: dict[str, str] = {}
    enroll: dict[str, Any] = {}
    for name, raw in row.items():
        value = raw.strip()
        if not value:
            continue
        if name.startswith(ATTR_PREFIX):
            attributes[name.removeprefix(ATTR_PREFIX)] = value
        elif name.startswith(CONTEXT_PREFIX):
            context[name.removeprefix(CONTEXT_PREFIX)] = value
        elif name in ENROLL_COLUMNS:
            enroll[name] = value
        else:
            lead[name] = value
    if attributes:
        lead["attributes"] = attributes
    enroll["lead"] = lead
    if context:
        enroll["context"] = context
    if speedup is not None:
        enroll["speedup"] = speedup
    return enroll


def column_of(location: Location) -> str:
    """The CSV column a pydantic error location points at, e.g. ('lead', 'attributes', 'x') -> attr.x."""
    match location:
        case ("lead", "attributes", name, *_):
            return f"{ATTR_PREFIX}{name}"
        case ("context", name, *_):
            return f"{CONTEXT_PREFIX}{name}"
        case ("lead", name, *_):
            return str(name)
        case (name, *_):
            return str(name)
    return ""


def _prefixed_name(column: str, prefix: str) -> bool:
    return column.startswith(prefix) and len(column) > len(prefix)


def _swallowed_lines(cells: list[str], start: int, width: int) -> list[int]:
    """The lines of a multi-line cell that look like rows of their own (as many commas as
    a row has): an unterminated quote swallowed them. A note with line breaks has none."""
    line, swallowed = start, []
    for cell in cells:
        for text in cell.split("\n")[1:]:
            line += 1
            if width > 1 and text.count(",") >= width - 1:
                swallowed.append(line)
    return swallowed


def _numbered_rows(lines: Iterable[str]) -> Iterator[tuple[int, int, list[str]]]:
    """Rows with the lines each one starts and ends on (a quoted cell may span several)."""
    reader = csv.reader(lines)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise CsvFormatError(f"line {reader.line_num}: {error}") from None
        yield start, reader.line_num, cells
        start = reader.line_num + 1
