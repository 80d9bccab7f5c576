"""The only maker of public values: each value is re-generalized before it is sealed.

Stored incidents already hold generalized text, blocks and points; sealing runs the same
(idempotent) generalization again with the deployment's floor, so even a row written by a
bug or by hand cannot reach the public in exact form.
"""

from __future__ import annotations

from townsquare import geo
from townsquare.privacy.address import address_block
from townsquare.privacy.text import scrub_text
from townsquare.privacy.types import MINT, BlockAddress, CoarsePoint, ScrubbedText


def seal_text(text: str) -> ScrubbedText:
    """Text fit for the public, scrubbed with the default rules."""
    return ScrubbedText(scrub_text(text), MINT)


def seal_address(address: str | None) -> BlockAddress | None:
    """An address fit for the public: a hundred block or intersection, or None."""
    block = address_block(address)
    return None if block is None else BlockAddress(block, MINT)


def seal_point(lat: float, lon: float) -> CoarsePoint:
    """A point fit for the public: a cell centre at the public resolution or coarser."""
    point = geo.Point(lat, lon)
    for resolution in range(geo.PUBLIC_RESOLUTION + 1):
        # A point a source published coarser (resolution 8, say) keeps that resolution.
        if geo.coarsen(point, resolution) == point:
            return CoarsePoint(lat, lon, resolution, MINT)
    public = geo.coarsen(point)
    return CoarsePoint(public.lat, public.lon, geo.PUBLIC_RESOLUTION, MINT)
