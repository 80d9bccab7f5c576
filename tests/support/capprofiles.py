"""The Google Public Alerts CAP profile's rules, written out to check our CAP output.

Google's profile (the public-alerts cap-library `GoogleProfile`) is code, not a schema: its
errors and the recommendations consumers act on are checked here, each named as the profile
names it. The XSDs (CAP 1.2, IPAWS profile) are checked with townsquare.ingest.capschema.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
HEADLINE_MAX = 140
_SENDER = re.compile(r"^[^\s,@]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$|^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _text(node: etree._Element, path: str) -> str:
    return (node.findtext(path, default="", namespaces=NS) or "").strip()


def google_profile_reasons(alert: etree._Element) -> list[str]:
    """The profile's errors and recommendations the alert triggers (empty: it passes)."""
    reasons: list[str] = []
    msg_type = _text(alert, "cap:msgType")
    if msg_type in {"Update", "Cancel"} and not _text(alert, "cap:references"):
        reasons.append("UPDATE_OR_CANCEL_MUST_REFERENCE")
    if not _SENDER.match(_text(alert, "cap:sender")):
        reasons.append("SENDER_IS_EMAIL_OR_DOMAIN")
    infos = alert.findall("cap:info", namespaces=NS)
    if not infos:
        reasons.append("INFO_IS_REQUIRED")
    for info in infos:
        reasons += _info_reasons(alert, info)
    return reasons


def _info_reasons(alert: etree._Element, info: etree._Element) -> list[str]:
    reasons: list[str] = []
    required = {
        "description": "DESCRIPTION_IS_REQUIRED",
        "web": "WEB_IS_REQUIRED",
        "expires": "EXPIRES_IS_REQUIRED",
        "urgency": "URGENCY_IS_REQUIRED",
        "severity": "SEVERITY_IS_REQUIRED",
        "certainty": "CERTAINTY_IS_REQUIRED",
        "senderName": "SENDER_NAME_STRONGLY_RECOMMENDED",
        "responseType": "RESPONSE_TYPE_STRONGLY_RECOMMENDED",
        "instruction": "INSTRUCTION_STRONGLY_RECOMMENDED",
        "contact": "CONTACT_IS_RECOMMENDED",
    }
    reasons += [name for tag, name in required.items() if not _text(info, f"cap:{tag}")]
    expires = _text(info, "cap:expires")
    effective = _text(info, "cap:effective") or _text(alert, "cap:sent")
    if expires and datetime.fromisoformat(effective) > datetime.fromisoformat(expires):
        reasons.append("EFFECTIVE_NOT_AFTER_EXPIRES")
    headline, description = _text(info, "cap:headline"), _text(info, "cap:description")
    if len(headline) > HEADLINE_MAX:
        reasons.append("HEADLINE_TOO_LONG")
    if headline == description:
        reasons.append("HEADLINE_AND_DESCRIPTION_SHOULD_DIFFER")
    if description == _text(info, "cap:instruction"):
        reasons.append("DESCRIPTION_AND_INSTRUCTION_SHOULD_DIFFER")
    for tag in ("urgency", "severity", "certainty"):
        if _text(info, f"cap:{tag}") == "Unknown":
            reasons.append(f"UNKNOWN_{tag.upper()}_DISCOURAGED")
    areas = info.findall("cap:area", namespaces=NS)
    if not areas:
        reasons.append("AREA_IS_REQUIRED")
    for area in areas:
        shapes = [
            _text(area, "cap:circle"),
            _text(area, "cap:polygon"),
            _text(area, "cap:geocode/cap:value"),
        ]
        if not any(shapes):
            reasons.append("CIRCLE_POLYGON_OR_GEOCODE_IS_REQUIRED")
        circle = _text(area, "cap:circle")
        if circle and float(circle.split()[-1]) == 0:
            reasons.append("NONZERO_CIRCLE_RADIUS_RECOMMENDED")
    return reasons
