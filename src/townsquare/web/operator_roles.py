"""The operator's roles page: who holds a staff role, and granting or revoking one by e-mail.

Showing the list is a read of each staff member's address by the operator: audited, so it
appears in that member's access log. Each change is `accounts.grants` (one audited action, as
from the CLI); a privileged role applies once its holder signs in with two-factor. Refusals
(no such account, an agency role without its agency) are shown on the page in words.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts import grants, security
from townsquare.agencies import service as agencies
from townsquare.http.deps import DB
from townsquare.web.kit import (
    Refused,
    page,
    page_router,
    refusal_shown,
    see_other,
    sentence,
    status_of,
    text,
)
from townsquare.web.operator import OperatorPage

router = page_router()
LABELS = {
    "moderator": "moderator (curator)",
    "operator": "operator",
    "agency_officer": "agency officer",
    "agency_admin": "agency admin",
    "resident": "resident",
}
DONE = {"grant": "Granted", "revoke": "Revoked"}


def _shown(session: Session, actor_id: int, shown: list[tuple[grants.StaffAccount, str]]) -> None:
    """Each staff member whose address the page shows reads it in their access log."""
    for account, _ in shown:
        if account.id != actor_id:
            audit.record(
                session,
                actor_id=actor_id,
                action="account.email_read",
                object_type="account",
                object_id=account.id,
                subject_id=account.id,
                detail={"page": "operator roles"},
            )
    session.commit()


def _page(
    request: Request, session: DB, actor: OperatorPage, status: int = 200, **extra: object
) -> Response:
    shown = grants.staff(session)
    _shown(session, actor.account_id, shown)
    return page(
        request,
        "operator/roles.html",
        status,
        actor=actor,
        staff=shown,
        roles=[r for r in grants.ROLES if r != "resident"],
        labels=LABELS,
        agencies=agencies.list_agencies(session),
        **extra,
    )


@router.get("/operator/roles")
async def roles_page(
    request: Request,
    session: DB,
    actor: OperatorPage,
    done: str = "",
    role: str = "",
    email: str = "",
) -> Response:
    """Staff accounts and their roles, the grant form, a revoke button per role."""
    note = None
    if done in DONE and role in LABELS and email:
        note = f"{DONE[done]} the {LABELS[role]} role {'to' if done == 'grant' else 'from'} {email}"
    return _page(request, session, actor, note=note)


@router.post("/operator/roles/{change}")
async def change_role(request: Request, change: str, session: DB, actor: OperatorPage) -> Response:
    """Grant or revoke one role of the account with this e-mail; audited by `grants`."""
    form = await request.form()
    email, role = text(form, "email").strip()[:320], text(form, "role").strip()
    agency = text(form, "agency").strip() or None
    fields = {"email": email, "role": role, "agency": agency or ""}
    if change not in DONE:
        return _page(request, session, actor, 404, error="There is no such change.", fields=fields)

    def refused(exc: Refused) -> Response:
        return _page(request, session, actor, status_of(exc), error=sentence(exc), fields=fields)

    with refusal_shown(session, refused):
        if change == "grant":
            grants.grant_role(session, email, role, actor_id=actor.account_id, agency=agency)
        else:
            grants.revoke_role(session, email, role, actor_id=actor.account_id)
    query = urlencode({"done": change, "role": role, "email": security.normal_email(email)})
    return see_other(f"/operator/roles?{query}#staff")
