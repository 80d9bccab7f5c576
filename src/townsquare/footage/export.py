"""A resident's footage data for "download my data": cameras, clips, requests, shares, grants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from townsquare.footage.models import BreakGlass, Camera, Clip, FootageRequest, Notice, Share


def footage_of(session: Session, account_id: int) -> dict[str, list[dict[str, Any]]]:
    """Everything of the footage domain about one resident, as plain values (no token hashes)."""
    cameras = list(session.scalars(select(Camera).where(Camera.owner_id == account_id)))
    clips = list(session.scalars(select(Clip).where(Clip.camera_id.in_([c.id for c in cameras]))))
    shares = list(session.scalars(select(Share).where(Share.clip_id.in_([c.id for c in clips]))))
    notices = list(session.scalars(select(Notice).where(Notice.account_id == account_id)))
    asked = {n.request_id for n in notices} | {s.request_id for s in shares}
    requests = {
        r.id: r for r in session.scalars(select(FootageRequest).where(FootageRequest.id.in_(asked)))
    }
    grants = session.scalars(select(BreakGlass).where(BreakGlass.owner_id == account_id))
    return {
        "cameras": [
            {"id": c.id, "name": c.name, "lat": c.lat, "lon": c.lon, "created_at": c.created_at}
            for c in cameras
        ],
        "clips": [
            {
                "id": c.id,
                "camera_id": c.camera_id,
                "media_id": c.media_id,
                "starts_at": c.starts_at,
                "ends_at": c.ends_at,
            }
            for c in clips
        ],
        "requests_received": [
            {
                "request_id": n.request_id,
                "case_number": requests[n.request_id].case_number,
                "camera_ids": n.camera_ids,
                "notified_at": n.notified_at,
                "declined_at": n.declined_at,
            }
            for n in notices
            if n.request_id in requests
        ],
        "shares": [
            {
                "id": s.id,
                "request_id": s.request_id,
                "case_number": requests[s.request_id].case_number,
                "clip_id": s.clip_id,
                "note": s.note,
                "shared_at": s.shared_at,
                "expires_at": s.expires_at,
                "revoked_at": s.revoked_at,
            }
            for s in shares
            if s.request_id in requests
        ],
        "break_glass": [
            {
                "target": g.target,
                "target_id": g.target_id,
                "reason": g.reason,
                "opened_at": g.opened_at,
                "expires_at": g.expires_at,
            }
            for g in grants
        ],
    }
