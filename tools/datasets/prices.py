"""Daily price files as finance sites export them: the close to use, date order, likely splits.

    prices = read_prices_csv(text, "AAPL.csv")
    prices.columns["close"], prices.notes

The adjusted close (`Adj Close`, `adj_close`, `adjusted_close`, any case) is used when present,
so a stock split is not a −50% day. With a date column, rows are sorted by date and a repeated
date is refused with its line numbers.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from magnet.tools.errors import DatasetError

ADJUSTED = ("adj close", "adj_close", "adjusted_close", "adjusted close", "adjclose")
DATES = ("date", "datetime", "timestamp", "time", "day")
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d")
SPLIT_MOVE = 0.4  # a day-over-day move beyond ±40% in an unadjusted close: likely a split


@dataclass
class Prices:
    """Columns close (required), high, low, volume (optional) as float64, oldest day first."""

    columns: dict[str, np.ndarray]
    notes: list[str] = field(default_factory=list)


def read_prices_csv(text: str, source: str) -> Prices:
    reader = csv.DictReader(io.StringIO(text))
    fields = {name.strip().lower(): name for name in reader.fieldnames or []}
    adjusted = next((fields[a] for a in ADJUSTED if a in fields), None)
    close = adjusted or fields.get("close")
    if close is None:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise DatasetError(f"{source}: no 'close' column (found: {found})")
    wanted = {"close": close} | {c: fields[c] for c in ("high", "low", "volume") if c in fields}
    rows = list(enumerate(reader, start=2))
    columns = {c: _numbers(rows, c, name, source) for c, name in wanted.items()}
    kind = " (adjusted for splits and dividends)" if adjusted else ""
    notes = [f"close column: '{close}'{kind}"]
    date = next((fields[d] for d in DATES if d in fields), None)
    order = np.arange(len(rows))
    if date is not None:
        order, first, last = _date_order(rows, date, source)
        columns = {c: v[order] for c, v in columns.items()}
        moved = " (rows sorted by date)" if (np.diff(order) != 1).any() else ""
        notes.append(f"days {first} to {last}{moved}")
    if not adjusted:
        notes += _likely_splits(columns["close"], [rows[i] for i in order], date)
    return Prices(columns=columns, notes=notes)


def _numbers(rows: list[tuple[int, dict]], column: str, name: str, source: str) -> np.ndarray:
    values = []
    for line, row in rows:
        raw = row.get(name)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise DatasetError(f"{source} line {line}: {column} {raw!r} is not a number") from None
        if not np.isfinite(value) or (column != "volume" and value <= 0):
            raise DatasetError(f"{source} line {line}: {column} {raw!r} is not a positive price")
        values.append(value)
    return np.asarray(values, dtype=np.float64)


def _date_order(rows, column: str, source: str) -> tuple[np.ndarray, str, str]:
    """The row order that sorts by date; repeated dates refused with their lines."""
    raw = [(row.get(column) or "").strip() for _, row in rows]
    days = _parse_dates(raw, [line for line, _ in rows], source)
    seen: dict[datetime, int] = {}
    for (line, _), day in zip(rows, days, strict=True):
        if day in seen:
            raise DatasetError(
                f"{source}: date {day.date()} appears twice (lines {seen[day]} and {line})"
            )
        seen[day] = line
    order = np.argsort(np.array([d.timestamp() for d in days]), kind="stable")
    return order, str(days[order[0]].date()), str(days[order[-1]].date())


def _parse_dates(raw: list[str], lines: list[int], source: str) -> list[datetime]:
    """One format for the whole column (ISO first), so 03/04 is never read two ways."""
    for fmt in (None, *DATE_FORMATS):
        days = [_date(r, fmt) for r in raw]
        if None not in days:
            return days  # type: ignore[return-value]
    for r, line in zip(raw, lines, strict=True):  # name the first value no format reads
        if all(_date(r, fmt) is None for fmt in (None, *DATE_FORMATS)):
            raise DatasetError(f"{source} line {line}: date {r!r} is not a date (e.g. 2024-01-31)")
    raise DatasetError(f"{source}: the dates mix formats (use one, e.g. 2024-01-31)")


def _date(value: str, fmt: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if fmt is None else datetime.strptime(value, fmt)
    except ValueError:
        return None


def _likely_splits(close: np.ndarray, rows, date: str | None) -> list[str]:
    """Days whose unadjusted close moved beyond ±SPLIT_MOVE, named by date or line."""
    moves = close[1:] / close[:-1] - 1
    jumps = np.flatnonzero(np.abs(moves) > SPLIT_MOVE) + 1
    if not len(jumps):
        return []
    where = []
    for i in jumps[:10]:
        line, row = rows[i]
        day = row.get(date) if date else f"line {line}"
        where.append(f"{day} ({moves[i - 1]:+.0%})")
    more = f" and {len(jumps) - 10} more" if len(jumps) > 10 else ""
    return [
        f"no adjusted close column: {len(jumps)} day-over-day moves beyond ±{SPLIT_MOVE:.0%}, "
        f"likely splits: {', '.join(where)}{more}"
    ]
