"""The operator's pages: a home linking to agencies, roles, sources and the audit log.

What an operator did through the API or the CLI (verify an agency with a GeoJSON body and a
token, grant a role, read the sources' health, verify the audit chain) is a page here, for
operators signed in with two-factor only. Agencies and roles have their own modules
(`operator_agencies`, `operator_roles`); the pages that only read are here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from townsquare import audit
from townsquare.accounts.schemas import Actor
from townsquare.db import utcnow
from townsquare.errors import NotFound
from townsquare.http.deps import DB
from townsquare.ingest import health
from townsquare.web.kit import page, page_router, role_page

router = page_router()
OperatorPage = Annotated[
    Actor, Depends(role_page("operator", refusal="operator/operator_only.html"))
]
"""The visitor of an operator page: an operator signed in with two-factor; others are told."""


@router.get("/operator")
async def operator_home(request: Request, actor: OperatorPage) -> Response:
    """Links to the operator's pages, each with one line on what it is for."""
    return page(request, "operator/home.html", actor=actor)


@router.get("/operator/sources")
async def operator_sources(request: Request, session: DB, actor: OperatorPage) -> Response:
    """Each feed source and its health: last success and error, counts, quarantined records."""
    now = utcnow()
    rows = [health.detail(row, now) for row in health.list_sources(session)]
    return page(request, "operator/sources.html", actor=actor, sources=rows)


@router.get("/operator/sources/{slug}/quarantine")
async def operator_quarantine(
    request: Request, slug: str, session: DB, actor: OperatorPage
) -> Response:
    """A source's quarantined records with the field and error of each (no payloads)."""
    try:
        records = health.quarantined(session, slug)
    except NotFound:
        return page(request, "operator/quarantine.html", 404, actor=actor, slug=slug, records=None)
    return page(request, "operator/quarantine.html", actor=actor, slug=slug, records=records)


@router.get("/operator/audit")
async def operator_audit(request: Request, session: DB, actor: OperatorPage) -> Response:
    """The audit chain walked now: intact, or the first entry that does not match."""
    checked = audit.verify(session)
    return page(request, "operator/audit.html", actor=actor, checked=checked, at=utcnow())
