"""`mount(app)`: every page router, the static files, the page templates and the detours."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from townsquare.web import (
    account_page,
    accounts,
    agency,
    alerts,
    desk,
    feed,
    footage,
    kit,
    moderation,
    operator,
    operator_agencies,
    operator_roles,
    outbox,
    places,
    posts,
    site,
    weekly,
)

HERE = Path(__file__).parent
ROUTERS = (
    alerts,
    accounts,
    account_page,
    outbox,
    posts,
    moderation,
    desk,
    agency,
    footage,
    weekly,
    places,
    operator,
    operator_agencies,
    operator_roles,
    site,
    feed,
)
"""The page modules, each with its `router`, in the order their routes are tried."""


def mount(app: FastAPI) -> None:
    """Add the page routes, their templates and the static files to `app`."""
    kit.install(app, str(HERE / "templates"))
    app.state.web_templates.env.globals["place_query"] = places.place_query
    app.state.problem_page = site.problem_page
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
