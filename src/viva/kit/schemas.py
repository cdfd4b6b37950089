"""Pydantic building blocks shared by every domain's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints

from viva.kit.clock import isoformat

T = TypeVar("T")


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, so typos are never silently dropped.
    NaN and Infinity (which Python's JSON parser accepts) are not numbers JSON or
    PostgreSQL's jsonb can hold, so they are refused too."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False, allow_inf_nan=False)


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str, when_used="json")]


def no_nul(value: str) -> str:
    """PostgreSQL cannot store U+0000 in text or jsonb; refuse it on every backend alike."""
    if "\x00" in value:
        raise ValueError("Must not contain the NUL character (\\u0000)")
    return value


def text(max_length: int, min_length: int = 1) -> Any:
    """A trimmed string type with length bounds."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(no_nul),
    ]


Name = text(200)
LongText = text(20_000, 0)
Label = text(100)
StringList = Annotated[list[text(200)], Field(max_length=100)]


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
