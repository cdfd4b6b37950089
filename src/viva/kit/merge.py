"""How a PATCH changes a nested object: JSON Merge Patch (RFC 7396)."""

from __future__ import annotations

from typing import Any


def merge_patch(current: Any, patch: Any) -> Any:
    """`current` changed by `patch`, as RFC 7396 says: objects merge key by key, recursively;
    a key whose patch value is null is removed (the field is cleared); anything else, lists
    included, replaces what was there. Neither argument is modified.

    `merge_patch({"title": "Eng", "location": "Oslo"}, {"title": "Staff", "location": None})`
    is `{"title": "Staff"}`."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged
