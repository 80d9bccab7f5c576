"""Moved to `townsquare.privacy`: re-exported here for importers not yet updated."""

from townsquare.privacy.address import address_block
from townsquare.privacy.text import scrub_text

__all__ = ["address_block", "scrub_text"]
