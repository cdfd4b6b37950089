"""IANA time zone names, checked against the zone database's own list.

`zoneinfo.ZoneInfo(name)` treats the name as a path under the zone directory, so a name
like "Europe" (a directory) or one longer than a file name can be raises OSError rather
than "not found"; asking the list first keeps every caller to real zone names."""

from __future__ import annotations

import zoneinfo
from functools import cache


@cache
def names() -> frozenset[str]:
    """Every IANA zone name this installation knows (tzdata), e.g. "Europe/Berlin", "UTC"."""
    return frozenset(zoneinfo.available_timezones())


def check(name: str) -> str:
    """`name` if it is an IANA zone name, else ValueError with a message fit for an API issue."""
    if name not in names():
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise ValueError(f"Unknown IANA time zone '{shown}'; use a name like Europe/Berlin or UTC")
    return name
