"""The privacy stage every dispatch record passes through before it is stored as public.

Ingestion calls these with the policy of the record's source (`ingest.policy.policy_for`);
the results are what the incident table stores. Posts call `post_point` in `points` the same
way.
"""

from __future__ import annotations

from townsquare import geo
from townsquare.privacy import points
from townsquare.privacy.address import address_block
from townsquare.privacy.gate import Decision, decide
from townsquare.privacy.policy import Policy
from townsquare.privacy.text import scrub_text

__all__ = ["Decision", "decide", "public_address", "public_point", "public_text"]


def public_address(address: str | None, policy: Policy) -> str | None:
    """The address as the policy lets it be shown: a block or intersection, or nothing."""
    if not policy.address.publish:
        return None
    return address_block(address, policy.address.block_size)


def public_text(text: str, policy: Policy) -> str:
    """Free text with everything the policy names scrubbed."""
    rules = policy.text
    withheld = policy.withhold.call_type_words
    return scrub_text(text, rules.name_markers, rules.phone_region, rules.extra_patterns, withheld)


def public_point(point: geo.Point, policy: Policy) -> geo.Point:
    """A dispatch point snapped to the centre of its cell at the policy's resolution."""
    return points.public_point(point, policy.point.resolution)
