"""Durations and times as people read them, shared by the command line and the web page."""

from __future__ import annotations

from datetime import datetime


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
