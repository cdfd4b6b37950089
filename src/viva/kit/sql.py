"""SQL constructs that need a different spelling per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement


class JsonArrayContains(ColumnElement[bool]):
    """`column` (a JSON array of strings) contains `value`."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column: Any, value: str) -> None:
        self.column = column
        self.value = literal(value)


@compiles(JsonArrayContains, "postgresql")
def _pg_contains(element: JsonArrayContains, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    val = compiler.process(element.value, **kw)
    return f"({col} @> jsonb_build_array(CAST({val} AS TEXT)))"


@compiles(JsonArrayContains)
def _sqlite_contains(element: JsonArrayContains, compiler: SQLCompiler, **kw: Any) -> str:
    col = compiler.process(element.column, **kw)
    val = compiler.process(element.value, **kw)
    return f"EXISTS (SELECT 1 FROM json_each({col}) WHERE json_each.value = {val})"


def escape_like(text: str) -> str:
    """Escape LIKE wildcards so user search text matches literally (use escape='\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
