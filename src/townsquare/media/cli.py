"""`townsquare media process`: blur waiting photos and clips outside the web server (a worker)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from townsquare.commands import configured, store
from townsquare.media.jobs import process_pending

media_app = typer.Typer(help="Uploaded photos and clips.", no_args_is_help=True)


@media_app.command("process")
def media_process(
    once: Annotated[
        bool, typer.Option("--once", help="Process what is waiting, then exit.")
    ] = False,
) -> None:
    """Blur the photos and clips waiting to be processed, as the server's media job does.

    For a worker node beside web nodes started with TOWNSQUARE_MEDIA_JOBS=0. Several may run:
    each upload is claimed by one of them. Ctrl-C or SIGTERM stop it at the next frame, and the
    clip in hand goes back to the queue.
    """
    settings, stop = configured(), threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        with store(settings) as factory:
            while not stop.is_set():
                done = process_pending(factory, settings, stop.is_set)
                if once:
                    typer.echo(f"{done} upload{'' if done == 1 else 's'} processed")
                    return
                stop.wait(settings.media_job_interval_s)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
