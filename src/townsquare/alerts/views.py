"""Subscription routes: create a watch area, read or delete it, its delivery log, dead letters.

The manage token returned at creation goes in `Authorization: Bearer TOKEN`; without the
right one a subscription answers 404 like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from townsquare.alerts import service
from townsquare.alerts.plan import with_plan
from townsquare.alerts.schemas import (
    DELIVERY_STATUSES,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionExists,
    SubscriptionIn,
    SubscriptionOut,
)
from townsquare.db import utcnow
from townsquare.errors import InvalidParameter, NotFound
from townsquare.http.deps import platform_of
from townsquare.http.ratelimit import limited

router = APIRouter(tags=["alerts"])
Auth = Annotated[str | None, Header(description="Bearer MANAGE_TOKEN")]


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer` header; absent reads as not found."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotFound("subscription not found (send Authorization: Bearer MANAGE_TOKEN)")
    return token.strip()


@router.post(
    "/api/v1/subscriptions",
    status_code=201,
    summary="Subscribe a watch area; the manage token is in the answer, and only there",
    responses={
        200: {
            "model": SubscriptionExists,
            "description": "the address already watches this area: no second subscription",
        }
    },
    dependencies=[Depends(limited("anonymous"))],
)
def create(
    request: Request, response: Response, data: SubscriptionIn
) -> SubscriptionCreated | SubscriptionExists:
    """POST a watch area (its shape is turned into cells and not kept) with its channels.

    An e-mail address is sent a confirmation link and nothing else until it follows it. A
    webhook the server would refuse to reach (a private or loopback address, a name that
    does not resolve) is refused here, with the reason.
    """
    platform = platform_of(request)
    service.check_channels(data, platform.settings)
    made = service.create_subscription(
        platform.factory, data, actor="anonymous", now=utcnow(), settings=platform.settings
    )
    if isinstance(made, SubscriptionExists):
        response.status_code = 200
    return made


@router.get("/api/v1/subscriptions/{subscription_id}", summary="One watch area (owner only)")
def read(request: Request, subscription_id: int, authorization: Auth = None) -> SubscriptionOut:
    """GET a subscription with its channels, and what it receives now or in the digest."""
    platform = platform_of(request)
    with platform.factory() as session:
        found = service.get_subscription(session, subscription_id, bearer(authorization))
    return with_plan(found, platform.settings)


@router.delete(
    "/api/v1/subscriptions/{subscription_id}",
    status_code=204,
    summary="Unsubscribe: the area, its channels and its delivery log are deleted",
)
def delete(request: Request, subscription_id: int, authorization: Auth = None) -> Response:
    """DELETE a subscription."""
    service.delete_subscription(
        platform_of(request).factory, subscription_id, bearer(authorization), actor="owner"
    )
    return Response(status_code=204)


@router.get(
    "/api/v1/subscriptions/{subscription_id}/deliveries",
    summary="Delivery log, newest first; status=dead lists the dead letters",
)
def deliveries(
    request: Request,
    subscription_id: int,
    authorization: Auth = None,
    status: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryOut]:
    """GET what was sent to this subscription's channels and what became of it."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidParameter("status", f"one of {', '.join(DELIVERY_STATUSES)}")
    with platform_of(request).factory() as session:
        return service.list_deliveries(
            session, subscription_id, bearer(authorization), status=status, limit=limit
        )


@router.post(
    "/api/v1/subscriptions/{subscription_id}/deliveries/retry",
    summary="Send the dead letters once more",
)
def retry(request: Request, subscription_id: int, authorization: Auth = None) -> dict[str, int]:
    """POST to requeue every dead delivery of this subscription."""
    count = service.retry_dead_letters(
        platform_of(request).factory,
        subscription_id,
        bearer(authorization),
        actor="owner",
        now=utcnow(),
    )
    platform_of(request).alerts.wake()
    return {"requeued": count}


@router.get("/api/v1/push/key", summary="The VAPID public key browsers subscribe with")
def push_key(request: Request) -> dict[str, str]:
    """GET the application server key for PushManager.subscribe().

    The server makes its key pair on first start (or takes the one the settings name).
    """
    return {"public_key": platform_of(request).alerts.vapid_keys().public_key}
