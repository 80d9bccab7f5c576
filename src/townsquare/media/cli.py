"""`townsquare media process`: blur waiting clips outside the web server (a worker node)."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from townsquare import logs
from townsquare.db import make_engine, make_sessionmaker
from townsquare.media.jobs import process_pending
from townsquare.settings import Settings

media_app = typer.Typer(help="Uploaded photos and clips.", no_args_is_help=True)


@media_app.command("process")
def media_process(
    once: Annotated[
        bool, typer.Option("--once", help="Process what is waiting, then exit.")
    ] = False,
) -> None:
    """Blur the clips waiting to be processed, as the server's media job does.

    For a worker node beside web nodes started with TOWNSQUARE_MEDIA_JOBS=0. Several may run:
    each clip is claimed by one of them. Ctrl-C or SIGTERM stop it at the next frame, and the
    clip in hand goes back to the queue.
    """
    settings = Settings()
    logs.configure(settings.log_level, settings.log_json)
    engine = make_engine(settings.resolved_database_url())
    factory, stop = make_sessionmaker(engine), threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        while not stop.is_set():
            done = process_pending(factory, settings, stop.is_set)
            if once:
                typer.echo(f"{done} clip{'' if done == 1 else 's'} processed")
                return
            stop.wait(settings.media_job_interval_s)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        engine.dispose()
