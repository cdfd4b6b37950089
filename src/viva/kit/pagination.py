"""Page/pageSize/sort parameters and the list envelope's `meta`."""
# No `from __future__ import annotations` here: FastAPI must evaluate the dependency's
# annotations, which refer to names local to page_params().

import math
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Query

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    sort: str = "created_at"

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size

    @property
    def sort_field(self) -> str:
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    request: PageRequest

    def meta(self) -> dict[str, Any]:
        return {
            "page": self.request.page,
            "pageSize": self.request.page_size,
            "total": self.total,
            "totalPages": math.ceil(self.total / self.request.page_size) if self.total else 0,
        }


def page_params(*sortable: str) -> Any:
    """A FastAPI dependency reading `page`, `pageSize` and `sort` (one of `sortable`,
    optionally prefixed with '-' for descending; the first is the default)."""
    choices = tuple(c for s in sortable for c in (s, f"-{s}"))
    SortChoice = Literal[choices]  # type: ignore[valid-type]

    async def dependency(
        page: Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")] = 1,
        pageSize: Annotated[  # noqa: N803 - the public API's spelling
            int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page (max 100)")
        ] = DEFAULT_PAGE_SIZE,
        sort: Annotated[
            SortChoice,
            Query(description="Sort field; prefix '-' for descending"),
        ] = sortable[0],
    ) -> PageRequest:
        return PageRequest(page=page, page_size=pageSize, sort=sort)

    return dependency
