"""The weekly digest as an e-mail: a plain-text part and an HTML part saying the same."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import urlencode

from townsquare.alerts.models import Subscription
from townsquare.i18n import N_, ngettext, speaking
from townsquare.i18n import gettext as _
from townsquare.mail import message_id
from townsquare.settings import Settings
from townsquare.templating import local_text, render_mail, utc_iso
from townsquare.weekly.schemas import MAX_RADIUS_M, MIN_RADIUS_M, CategoryWeek, WeeklySummary

FOOTER = N_("You get this because you subscribed to alerts for this area on Townsquare.")


def page_url(settings: Settings, summary: WeeklySummary) -> str:
    """The /weekly page of the area's circle (the page's bounds applied) for the same week."""
    area = summary.area
    radius = min(max(area.radius_m, MIN_RADIUS_M), MAX_RADIUS_M)
    query = urlencode(
        {
            "lat": f"{area.lat:.5f}",
            "lon": f"{area.lon:.5f}",
            "radius_m": f"{radius:g}",
            "end": utc_iso(summary.end),
        }
    )
    return f"{settings.site_url()}/weekly?{query}"


def zone_of(settings: Settings, sub: Subscription) -> str:
    """The zone the mail's times are in: the watch area's own (its quiet hours set one), else
    the site's (a subscription without one stores UTC)."""
    return sub.time_zone if sub.time_zone and sub.time_zone != "UTC" else settings.time_zone


def period(settings: Settings, sub: Subscription, summary: WeeklySummary) -> str:
    """'7 Dec, 8:00 AM PST to 14 Dec, 8:00 AM PST' in the area's zone."""
    zone = zone_of(settings, sub)
    start, end = local_text(summary.start, zone), local_text(summary.end, zone)
    return _("%(start)s to %(end)s") % {"start": start, "end": end}


def subject(sub: Subscription, summary: WeeklySummary) -> str:
    """'This week in “Home”: 4 public incidents, about usual'."""
    place = f"“{sub.name}”" if sub.name else _("your watch area")
    total = summary.total
    text = ngettext(
        "This week in %(place)s: %(num)d public incident, %(comparison)s",
        "This week in %(place)s: %(num)d public incidents, %(comparison)s",
        total.this_week,
    )
    return text % {"place": place, "num": total.this_week, "comparison": _(total.comparison)}


def _line(row: CategoryWeek) -> str:
    usual = _("usually %(min)s–%(max)s, mean %(mean)s") % {
        "min": row.usual.min,
        "max": row.usual.max,
        "mean": row.usual.mean,
    }
    return f"- {_(row.label)}: {row.this_week} ({usual}): {_(row.comparison)}"


def plain_text(
    settings: Settings, sub: Subscription, summary: WeeklySummary, unsubscribe: str
) -> str:
    """The digest as lines of text, with the page's link and the one-click unsubscribe link."""
    lines = [
        subject(sub, summary),
        "",
        _(
            "The 7 days from %(period)s, next to the same 7 days of each of the "
            "%(baseline_weeks)s weeks before."
        )
        % {"period": period(settings, sub, summary), "baseline_weeks": summary.baseline_weeks},
        "",
        *(_line(row) for row in summary.categories),
        _line(summary.total),
        "",
        _(summary.note),
        "",
        _("On the map: %(url)s") % {"url": page_url(settings, summary)},
        "",
        _("%(footer)s Stop these mails with one click: %(url)s")
        % {"footer": _(FOOTER), "url": unsubscribe},
    ]
    return "\n".join(lines)


def _compose(
    settings: Settings, sub: Subscription, summary: WeeklySummary, *, unsubscribe: str
) -> EmailMessage:
    """`compose` in the language being spoken."""
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["Subject"] = subject(sub, summary)
    mail["Message-ID"] = message_id(settings, "weekly")
    mail.set_content(plain_text(settings, sub, summary, unsubscribe))
    html = render_mail(
        "weekly.html",
        title=subject(sub, summary),
        summary=summary,
        period=period(settings, sub, summary),
        page_url=page_url(settings, summary),
        alerts_url=f"{settings.site_url()}/alerts",
        unsubscribe_url=unsubscribe,
        footer=_(FOOTER),
    )
    mail.add_alternative(html, subtype="html")
    return mail


def compose(
    settings: Settings, sub: Subscription, summary: WeeklySummary, *, unsubscribe: str
) -> EmailMessage:
    """The message without its recipient: From, Subject, text and HTML parts, in the
    language the subscriber used when subscribing."""
    with speaking(sub.language or "en"):
        return _compose(settings, sub, summary, unsubscribe=unsubscribe)
