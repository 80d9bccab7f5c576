"""Words for a delivery body: the headline and the plain text every channel uses.

They are written in the language being spoken: a channel renders a body inside
`speaking(language_of(body))`, the language its subscriber subscribed in.
"""

from __future__ import annotations

from typing import Any

from townsquare.i18n import N_
from townsquare.i18n import gettext as _

PREFIX = {
    "alert": N_("Alert"),
    "update": N_("Update"),
    "cancel": N_("Cancelled"),
    "digest": N_("Digest"),
}
N_("The alert was withdrawn; the incident is no longer in the public feed.")  # a cancel's reason


def language_of(body: dict[str, Any]) -> str:
    """The language the body's subscriber subscribed in ('en' for bodies made before)."""
    return str(body.get("subscription", {}).get("language") or "en")


def headline(body: dict[str, Any]) -> str:
    """One line: kind, what, where."""
    kind = _(PREFIX.get(str(body.get("type")), PREFIX["alert"]))
    if body.get("type") == "digest":
        count = len(body.get("items", []))
        return _("%(kind)s: %(count)s incidents in %(area)s") % {
            "kind": kind,
            "count": count,
            "area": _area(body),
        }
    if body.get("type") == "cancel":
        return _("%(kind)s: incident %(id)s in %(area)s") % {
            "kind": kind,
            "id": body["incident"]["id"],
            "area": _area(body),
        }
    props = body["incident"]["properties"]
    place = f" — {props['address_block']}" if props.get("address_block") else ""
    return f"{kind}: {props['title']}{place}"


def _area(body: dict[str, Any]) -> str:
    name = body.get("subscription", {}).get("name")
    return f"“{name}”" if name else _("your watch area")


def plain_text(body: dict[str, Any], unsubscribe: str | None = None) -> str:
    """The message as a few lines of plain text with links (and the one-click unsubscribe)."""
    lines = [headline(body), ""]
    if body.get("type") == "digest":
        for item in body.get("items", []):
            lines.append(f"- {headline(item)}  {item.get('url', '')}")
    elif body.get("type") == "cancel":
        lines.append(_(str(body.get("reason", ""))))
    else:
        props = body["incident"]["properties"]
        lines += [
            _("%(category)s, severity %(severity)s of 5.")
            % {"category": _(props["category_label"]), "severity": props["severity"]},
            _("Occurred %(when)s.") % {"when": props["occurred_at"]},
            _("Source: %(source)s.") % {"source": props.get("agency") or props["provenance"]},
            str(body.get("url", "")),
        ]
        if body.get("url"):
            lines.append(
                _("Not useful, or wrong? Tell the curation team: %(url)s")
                % {"url": f"{body['url']}#feedback"}
            )
    lines += ["", _("You get this because you subscribed to alerts for this area on Townsquare.")]
    if unsubscribe:
        lines.append(_("Stop these alerts with one click: %(url)s") % {"url": unsubscribe})
    return "\n".join(lines)
