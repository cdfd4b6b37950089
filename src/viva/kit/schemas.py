"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from viva.kit.clock import isoformat

T = TypeVar("T")


# Validation context of the dashboard's HTML forms, whose checkboxes arrive as "true"/"false".
FORM = {"form": True}


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, so typos are never silently dropped.
    NaN and Infinity (which Python's JSON parser accepts) are not numbers JSON or
    PostgreSQL's jsonb can hold, so they are refused too."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False, allow_inf_nan=False)


def _json_boolean(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool) or value is None or info.context == FORM:
        return value
    raise PydanticCustomError("bool_type", "Input should be a valid boolean")


# A boolean in a request body: `true` or `false`, where pydantic alone would also read 0, 1,
# "yes" or "off" (the dashboard's form text is validated with the FORM context).
Flag = Annotated[bool, BeforeValidator(_json_boolean)]


class _Clears:
    """Marks a PATCH field whose `null` clears the stored value."""

    def __repr__(self) -> str:
        return "Clears"


CLEARS = _Clears()
NULL_FORBIDDEN = "Cannot be null; leave the field out to keep its value"
# A PATCH field where `null` means "clear this optional value" (the column becomes null).
Clearable = Annotated[T | None, CLEARS]


def _clears(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields.get(name)
    return field is not None and CLEARS in field.metadata


def _drop_null(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The document calls a PATCH field nullable only when the server accepts `null` for it.
    Python needs `X | None = None` to tell "absent" apart; the wire contract does not."""
    for name, prop in schema.get("properties", {}).items():
        if _clears(model, name):
            prop.setdefault("description", "null clears it")
            continue
        options = prop.pop("anyOf", None)
        if options is not None:
            rest = [option for option in options if option != {"type": "null"}]
            if len(rest) == 1:
                prop.update(rest[0])
            else:
                prop["anyOf"] = rest
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class UpdateModel(StrictModel):
    """PATCH bodies: every field optional, an absent field is left alone. `null` is a 400
    ("Cannot be null") except on fields declared `Clearable[...]`, where it clears the value;
    the OpenAPI document says exactly that (only clearable fields are nullable)."""

    model_config = ConfigDict(json_schema_extra=_drop_null)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name is not None and not _clears(cls, info.field_name):
            raise PydanticCustomError("null_forbidden", NULL_FORBIDDEN)
        return value


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str, when_used="json")]


def no_nul(value: str) -> str:
    """PostgreSQL cannot store U+0000 in text or jsonb; refuse it on every backend alike."""
    if "\x00" in value:
        raise ValueError("Must not contain the NUL character (\\u0000)")
    return value


# Matches a string with something besides whitespace: a required text is trimmed before its
# length is checked, so "   " is empty, and the document says so.
NOT_BLANK = r"\S"


def bounded(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(
        strip_whitespace=True,
        min_length=min_length,
        max_length=max_length,
        pattern=NOT_BLANK if min_length > 0 else None,
    )


NoNul = AfterValidator(no_nul)


# Trimmed strings with length bounds. Spelled out so type checkers see real types.
Text50 = Annotated[str, bounded(50), NoNul]
Label = Annotated[str, bounded(100), NoNul]
Name = Annotated[str, bounded(200), NoNul]
Text255 = Annotated[str, bounded(255), NoNul]
Email = Annotated[str, bounded(320), NoNul]
Secret = Annotated[str, bounded(1000), NoNul]
Text4000 = Annotated[str, bounded(4000), NoNul]
Short = Annotated[str, bounded(200, 0), NoNul]
Medium = Annotated[str, bounded(2000, 0), NoNul]
LongText = Annotated[str, bounded(20_000, 0), NoNul]
StringList = Annotated[list[Name], Field(max_length=100)]


def _iso_text(value: Any) -> Any:
    """Pydantic also reads a number as Unix time; the API's date-times are ISO 8601 only."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("Expected an ISO 8601 date-time, e.g. 2026-06-02T07:48:31Z")
    return value


# A date-time in a query string, where everything arrives as text.
QueryDateTime = Annotated[datetime, BeforeValidator(_iso_text)]


# BCP 47 language tag, e.g. en, en-GB, pt-BR, zh-Hant-TW.
Language = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", max_length=35)]


class PageMeta(BaseModel):
    page: int
    pageSize: int
    total: int
    totalPages: int


class DataResponse(BaseModel, Generic[T]):
    data: T


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    meta: PageMeta


def query_text(max_length: int, description: str | None = None) -> Any:
    """A text query parameter: bounded, and without NUL (PostgreSQL can't compare it)."""
    from fastapi import Query

    return Query(max_length=max_length, pattern=r"^[^\x00]*$", description=description)
