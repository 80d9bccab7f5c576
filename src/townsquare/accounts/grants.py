"""Roles: operators grant and revoke them (from the CLI or an agency's admin page)."""

from __future__ import annotations

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from townsquare import audit
from townsquare.accounts import security
from townsquare.accounts.models import (
    PRIVILEGED,
    ROLES,
    Account,
)
from townsquare.agencies.models import Agency
from townsquare.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
)

AGENCY_ROLES = ("agency_officer", "agency_admin")

__all__ = ["ROLES", "StaffAccount", "grant_role", "revoke_role", "staff"]


def grant_role(
    session: Session, email: str, role: str, *, actor_id: int | None, agency: str | None = None
) -> None:
    """Give an account a role (operators, from the CLI); privileged ones apply after TOTP.

    An agency role names the agency (its slug): officers see that agency's data only.
    """
    if role not in ROLES:
        raise InvalidParameter("role", f"one of {', '.join(ROLES)}")
    account = session.scalar(select(Account).where(Account.email == security.normal_email(email)))
    if account is None:
        raise NotFound(f"no account {email}")
    if role in AGENCY_ROLES:
        if agency is None:
            raise InvalidParameter("agency", f"the {role} role needs the agency's slug")
        agency_id = session.scalar(select(Agency.id).where(Agency.slug == agency))
        if agency_id is None:
            raise NotFound(f"no agency {agency}")
        if account.agency_id not in (None, agency_id):
            raise Conflict(f"{email} already belongs to another agency")
        account.agency_id = agency_id
    if role not in account.roles:
        account.roles = [*account.roles, role]
    audit.record_row(
        session,
        account,
        actor_id=actor_id,
        action="account.grant_role",
        subject_id=account.id,
        detail={"role": role} | ({"agency": agency} if role in AGENCY_ROLES else {}),
    )
    session.commit()


def revoke_role(
    session: Session, email: str, role: str, *, actor_id: int | None, agency: str | None = None
) -> None:
    """Take a role from an account; it stops applying at the account's next request.

    With `agency`, the account must belong to that agency (NotFound otherwise). Once it holds
    no agency role, it belongs to no agency.
    """
    account = session.scalar(select(Account).where(Account.email == security.normal_email(email)))
    if account is None:
        raise NotFound(f"no account {email}")
    if agency is not None:
        agency_id = session.scalar(select(Agency.id).where(Agency.slug == agency))
        if agency_id is None or account.agency_id != agency_id:
            raise NotFound(f"{email} is not a member of {agency}")
    if role not in account.roles:
        raise Conflict(f"{email} does not have the {role} role")
    account.roles = [r for r in account.roles if r != role]
    if not set(account.roles) & set(AGENCY_ROLES):
        account.agency_id = None
    audit.record_row(
        session,
        account,
        actor_id=actor_id,
        action="account.revoke_role",
        subject_id=account.id,
        detail={"role": role} | ({"agency": agency} if agency else {}),
    )
    session.commit()


StaffAccount = Account
"""A staff member's account row, as the operator's roles page lists it."""


def staff(session: Session) -> list[tuple[StaffAccount, str]]:
    """Accounts holding a privileged role, by e-mail, with their agency's name ('' if none)."""
    holds = [cast(Account.roles, String).like(f'%"{role}"%') for role in sorted(PRIVILEGED)]
    rows = session.execute(
        select(Account, Agency.name)
        .outerjoin(Agency, Agency.id == Account.agency_id)
        .where(or_(*holds))
        .order_by(Account.email)
    )
    return [(account, name or "") for account, name in rows]
