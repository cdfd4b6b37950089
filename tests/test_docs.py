"""docs/configuration.md lists exactly the settings the code reads, with their defaults."""

from __future__ import annotations

import re
from pathlib import Path

from viva.config import Settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_configuration_table_matches_settings():
    rows = re.findall(r"^\| `(VIVA_[A-Z0-9_]+)` \| (.+?) \|", DOC.read_text(), flags=re.M)
    documented = {name: default.strip() for name, default in rows}
    fields = Settings.model_fields
    assert set(documented) == {f"VIVA_{name.upper()}" for name in fields}
    for name, field in fields.items():
        default = documented[f"VIVA_{name.upper()}"]
        expected = (
            "unset"
            if field.default is None
            else f"`{str(field.default).lower() if isinstance(field.default, bool) else field.default}`"
        )
        assert default == expected, f"VIVA_{name.upper()}: docs say {default}, code says {expected}"
