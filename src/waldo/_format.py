"""Durations and times as people read and type them, shared by the command line and
the web page."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from waldo._errors import InvalidInput

_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
_LATEST = datetime.max.replace(tzinfo=timezone.utc)


def fmt_duration(seconds: float | None) -> str:
    """``850 ms``, ``12.3 s``, ``4m05s``, ``2h07m``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def fmt_time(value: datetime | None) -> str:
    """Local time to the second; ``-`` when unknown."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def parse_moment(text: str | None, name: str, *, whole_day: bool = False) -> datetime | None:
    """A date or date-time typed by a person (ISO 8601; local time unless it says
    otherwise) as an aware datetime, None when empty. ``whole_day``: a bare date means
    the end of that day (an exclusive upper bound). Dates at the ends of the calendar
    (``0001-01-01``, ``9999-12-31``) become its first or last moment; anything else
    that is not a date raises InvalidInput naming ``name``."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{name} {text!r} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)."
        ) from exc
    try:
        if whole_day and len(text) <= len("YYYY-MM-DD"):
            value += timedelta(days=1)
        return value if value.tzinfo else value.astimezone(timezone.utc)
    except (OverflowError, ValueError):  # past the calendar's end in UTC or a day on
        return _LATEST if value.year > 1 else _EARLIEST
