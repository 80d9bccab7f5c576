"""Page routes (being written)."""

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    """Add the page routes and static files to `app`."""
