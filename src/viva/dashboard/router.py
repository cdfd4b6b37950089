"""All dashboard pages under /dashboard, kept out of the API reference."""

from __future__ import annotations

from fastapi import APIRouter

from viva.dashboard import account, developer, interviews, oauth, people, pipelines, profiles, settings
from viva.dashboard.web import PREFIX

router = APIRouter(include_in_schema=False)
for module in (oauth, profiles, pipelines, people, interviews, developer, settings):
    router.include_router(module.router, prefix=PREFIX)
router.include_router(account.router, prefix=PREFIX)
