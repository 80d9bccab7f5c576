"""The public transparency report of footage requests, overall or per agency, JSON or CSV.

Counts only: requests as filed, their sizes, how many residents were told, how many clips were
shared and revoked, how many break-glass grants operators opened. CSV cells that a spreadsheet
would run as a formula (starting with = + - @, tab or carriage return) get a leading quote.
"""

from __future__ import annotations

import csv
import io
import statistics
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from townsquare.agencies.models import Agency
from townsquare.errors import NotFound
from townsquare.footage.area import SQUARE_MILE_M2
from townsquare.footage.models import BreakGlass, FootageRequest, Share
from townsquare.footage.schemas import TransparencyReport, TransparencyRow, TransparencyTotals
from townsquare.privacy.engine import public_text
from townsquare.privacy.policy import default_policy

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = list(TransparencyRow.model_fields)


def _break_glass(session: Session, agency_id: int | None) -> int:
    query = select(func.count()).select_from(BreakGlass)
    if agency_id is not None:  # grants on clips shared with this agency's requests
        shared = (
            select(Share.clip_id)
            .join(FootageRequest, FootageRequest.id == Share.request_id)
            .where(FootageRequest.agency_id == agency_id)
        )
        query = query.where(BreakGlass.target == "clip", BreakGlass.target_id.in_(shared))
    return session.scalar(query) or 0


def report(session: Session, slug: str | None, *, now: datetime) -> TransparencyReport:
    """Every request (of one agency, or of all), oldest first, with the totals."""
    query = select(FootageRequest, Agency).join(Agency, Agency.id == FootageRequest.agency_id)
    agency_id = None
    if slug is not None:
        agency_id = session.scalar(select(Agency.id).where(Agency.slug == slug))
        if agency_id is None:
            raise NotFound(f"no agency {slug}")
        query = query.where(FootageRequest.agency_id == agency_id)
    rows = [
        TransparencyRow(
            agency=agency.slug,
            case_number=row.case_number,
            reason=public_text(row.reason, default_policy()),  # today's rules, old rows too
            filed_at=row.filed_at,
            square_miles=round(row.area_m2 / SQUARE_MILE_M2, 4),
            window_hours=round((row.window_end - row.window_start).total_seconds() / 3600, 2),
            expires_at=row.expires_at,
            residents_notified=row.residents_notified,
            clips_shared=row.clips_shared,
            clips_revoked=row.clips_revoked,
        )
        for row, agency in session.execute(
            query.order_by(FootageRequest.filed_at, FootageRequest.id)
        )
    ]
    areas = [r.square_miles for r in rows]
    windows = [r.window_hours for r in rows]
    totals = TransparencyTotals(
        requests_filed=len(rows),
        square_miles_total=round(sum(areas), 4),
        square_miles_median=statistics.median(areas) if areas else None,
        window_hours_total=round(sum(windows), 2),
        window_hours_median=statistics.median(windows) if windows else None,
        residents_notified=sum(r.residents_notified for r in rows),
        clips_shared=sum(r.clips_shared for r in rows),
        clips_revoked=sum(r.clips_revoked for r in rows),
        break_glass_accesses=_break_glass(session, agency_id),
    )
    return TransparencyReport(agency=slug, generated_at=now, totals=totals, requests=rows)


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(found: TransparencyReport) -> str:
    """One line per request, then a `total` line; break-glass grants in the total line only."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*COLUMNS, "break_glass_accesses"])
    for row in found.requests:
        writer.writerow([safe_cell(getattr(row, c)) for c in COLUMNS] + [""])
    t = found.totals
    writer.writerow(
        [
            "total",
            f"{t.requests_filed} requests",
            "",
            "",
            safe_cell(t.square_miles_total),
            safe_cell(t.window_hours_total),
            "",
            safe_cell(t.residents_notified),
            safe_cell(t.clips_shared),
            safe_cell(t.clips_revoked),
            safe_cell(t.break_glass_accesses),
        ]
    )
    return out.getvalue()
