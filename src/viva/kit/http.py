"""Helpers for endpoints: envelopes and request bodies whose schema depends on a query."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from viva.kit.pagination import Page

M = TypeVar("M", bound=BaseModel)


# Creates answer 201 with the new object, except POST /sessions and POST /participants/bulk,
# which answer 200 because the vendor documents 200 there (SPEC §3.5); integrations written
# against those docs check for it. Each create route declares which in the OpenAPI document.
CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "Created: the new object"}}
CREATED_AS_200: dict[int | str, dict[str, Any]] = {
    200: {"description": "Created. 200, not 201: intervyo.ai documents 200 for this create, as does Viva"}
}


def parse_body(model: type[M], payload: Any) -> M:
    """Validate a raw JSON body against `model`, raising the API's 400 on failure."""
    from viva.errors import validation_error

    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise validation_error(exc) from None


def one_of_body(*models: type[BaseModel]) -> dict[str, Any]:
    """openapi_extra for a route whose body is one of `models` (the app registers them)."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in models]}
                }
            },
        },
        "x-body-models": [m.__name__ for m in models],
    }


def listing(page: Page[Any], convert: Any) -> dict[str, Any]:
    return {"data": [convert(item) for item in page.items], "meta": page.meta()}


def allow_private_urls(request: Request) -> bool:
    """Whether this server may reach private addresses (`VIVA_ALLOW_PRIVATE_URLS`, development):
    the rule for every URL a caller gives, checked when it is given and again when dialled."""
    return bool(request.app.state.settings.allow_private_urls)
