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


def bounded(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


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
