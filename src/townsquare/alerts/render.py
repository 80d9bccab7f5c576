"""Words for a delivery body: the headline and the plain text every channel uses."""

from __future__ import annotations

from typing import Any

PREFIX = {"alert": "Alert", "update": "Update", "cancel": "Cancelled", "digest": "Digest"}


def headline(body: dict[str, Any]) -> str:
    """One line: kind, what, where."""
    kind = PREFIX.get(str(body.get("type")), "Alert")
    if body.get("type") == "digest":
        return f"{kind}: {len(body.get('items', []))} incidents in {_area(body)}"
    if body.get("type") == "cancel":
        return f"{kind}: incident {body['incident']['id']} in {_area(body)}"
    props = body["incident"]["properties"]
    place = f" — {props['address_block']}" if props.get("address_block") else ""
    return f"{kind}: {props['title']}{place}"


def _area(body: dict[str, Any]) -> str:
    name = body.get("subscription", {}).get("name")
    return f"“{name}”" if name else "your watch area"


def plain_text(body: dict[str, Any], unsubscribe: str | None = None) -> str:
    """The message as a few lines of plain text with links (and the one-click unsubscribe)."""
    lines = [headline(body), ""]
    if body.get("type") == "digest":
        for item in body.get("items", []):
            lines.append(f"- {headline(item)}  {item.get('url', '')}")
    elif body.get("type") == "cancel":
        lines.append(str(body.get("reason", "")))
    else:
        props = body["incident"]["properties"]
        lines += [
            f"{props['category_label']}, severity {props['severity']} of 5.",
            f"Occurred {props['occurred_at']}.",
            f"Source: {props.get('agency') or props['provenance']}.",
            str(body.get("url", "")),
        ]
        if body.get("url"):
            lines.append(f"Not useful, or wrong? Tell the curation team: {body['url']}#feedback")
    lines += ["", "You get this because you subscribed to alerts for this area on Townsquare."]
    if unsubscribe:
        lines.append(f"Stop these alerts with one click: {unsubscribe}")
    return "\n".join(lines)
