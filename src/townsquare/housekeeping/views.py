"""Data-rights routes: download my data, delete my account."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from townsquare.db import utcnow
from townsquare.housekeeping import rights
from townsquare.http.deps import DB, SESSION_COOKIE, Client, Config, CurrentActor

router = APIRouter(prefix="/api/v1/me", tags=["accounts"])


class DeleteAccount(BaseModel):
    """The password again; may be left out within 15 minutes of signing in."""

    password: str | None = Field(default=None, max_length=200)


@router.get("/export", summary="Download my data (ZIP)", response_class=FileResponse)
def export(actor: CurrentActor, session: DB, settings: Config) -> FileResponse:
    """Account, posts with their exact points, media files, subscriptions, audit entries."""
    path = rights.export_data(session, settings, actor=actor, now=utcnow())
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"townsquare-{actor.account_id}.zip",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.delete("", status_code=204, summary="Delete my account and my data")
def delete_me(
    actor: CurrentActor,
    session: DB,
    settings: Config,
    response: Response,
    client: Client,
    body: DeleteAccount | None = None,
) -> None:
    """Cookies need the CSRF header; the password again, or a sign-in in the last 15 minutes."""
    password = body.password if body is not None else None
    rights.delete_account(
        session, settings, actor=actor, password=password, client=client, now=utcnow()
    )
    response.delete_cookie(SESSION_COOKIE, path="/")
