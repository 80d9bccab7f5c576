"""The media job: a clip upload is answered at once and blurred in the background, by one job
at a time, taken over when its job dies, given back when its node stops, and failed with a
reason its owner is shown when it cannot be decoded."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.support.clips import ffmpeg, pattern_clip
from tests.support.residents import Mailbox, Person, resident
from tests.support.waiting import wait_for
from townsquare.cli import app
from townsquare.db import utcnow
from townsquare.media import jobs
from townsquare.media.models import Media
from townsquare.media.service import store_of
from townsquare.platform import Platform


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _upload(person: Person, path: Path) -> int:
    response = person.post("/api/v1/media", files={"file": (path.name, path.read_bytes())})
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "processing"
    media_id: int = response.json()["id"]
    return media_id


def _undecodable(tmp_path: Path) -> Path:
    """A clip whose header is sound (ffprobe reads it) but whose frames are all zeros."""
    clip = tmp_path / "zeroed.mp4"
    pattern = "testsrc2=size=64x64:rate=10:duration=1"
    ffmpeg("-f", "lavfi", "-i", pattern, "-c:v", "libx264", "-movflags", "+faststart", str(clip))
    data = bytearray(clip.read_bytes())  # faststart: the header comes before the frames
    start = data.find(b"mdat") + 4
    data[start:] = bytes(len(data) - start)
    zeroed = tmp_path / "zeroed-frames.mp4"
    zeroed.write_bytes(bytes(data))
    return zeroed


def _blobs(client: TestClient) -> set[Path]:
    root = store_of(_platform(client).settings).root
    return {p for p in root.rglob("*") if p.is_file() and "incoming" not in p.parts}


def test_a_clip_is_answered_at_once_then_blurred_in_the_background(
    jobless_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0, side=96))

    waiting = ada.client.get(f"/api/v1/media/{media_id}")
    assert waiting.status_code == 409
    assert "still being processed" in waiting.json()["detail"]
    assert ada.client.get(f"/api/v1/media/{media_id}/original").status_code == 200
    info = ada.client.get(f"/api/v1/media/{media_id}/info").json()
    assert (info["state"], info["width"], info["height"]) == ("processing", 96, 96)

    platform = _platform(jobless_client)
    assert jobs.process_pending(platform.factory, platform.settings) == 1
    assert jobs.process_pending(platform.factory, platform.settings) == 0

    info = ada.client.get(f"/api/v1/media/{media_id}/info").json()
    assert (info["state"], info["error"], info["duration_s"]) == ("ready", None, 1.0)
    done = ada.client.get(f"/api/v1/media/{media_id}")
    assert done.status_code == 200
    assert done.headers["content-type"] == "video/mp4"
    assert done.content != ada.client.get(f"/api/v1/media/{media_id}/original").content


def test_the_servers_own_job_processes_uploads(
    app_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(app_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0))

    def state() -> str | None:
        found = ada.client.get(f"/api/v1/media/{media_id}/info").json()["state"]
        return None if found == "processing" else str(found)

    assert wait_for(state, timeout=120, what="the app's media job to take the clip") == "ready"
    assert ada.client.get(f"/api/v1/media/{media_id}").status_code == 200


def test_a_clip_that_cannot_be_decoded_fails_with_its_reason(
    jobless_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, _undecodable(tmp_path))
    platform = _platform(jobless_client)
    jobs.process_pending(platform.factory, platform.settings)

    info = ada.client.get(f"/api/v1/media/{media_id}/info").json()
    assert info["state"] == "failed"
    assert info["error"].startswith("the clip cannot be decoded")
    shown = ada.client.get(f"/api/v1/media/{media_id}")
    assert shown.status_code == 409
    assert "could not be processed: the clip cannot be decoded" in shown.json()["detail"]
    assert jobs.process_pending(platform.factory, platform.settings) == 0  # not retried


def test_a_clip_is_claimed_once_and_taken_over_when_its_claim_is_stale(
    jobless_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0))
    platform = _platform(jobless_client)
    now = utcnow()
    with platform.factory() as first, platform.factory() as second:
        held = jobs.claim(first, now)
        assert held is not None
        assert held.id == media_id
        assert jobs.claim(second, now + timedelta(minutes=1)) is None
        later = now + jobs.LEASE + timedelta(seconds=1)  # the first job died, say
        taken = jobs.claim(second, later)
        assert taken is not None
        assert taken.attempts == 2
        blobs = _blobs(jobless_client)

        assert jobs.process(first, platform.settings, held) == "dropped"  # result not written
        assert _blobs(jobless_client) == blobs  # and its copy erased
        assert jobs.process(second, platform.settings, taken) == "ready"
    assert ada.client.get(f"/api/v1/media/{media_id}").status_code == 200


def test_a_stopping_node_gives_the_clip_back(
    jobless_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0))
    platform = _platform(jobless_client)
    with platform.factory() as session:
        row = jobs.claim(session, utcnow())
        assert row is not None
        assert jobs.process(session, platform.settings, row, lambda: True) == "processing"
    with platform.factory() as session:
        again = jobs.claim(session, utcnow())  # at once, not after the lease
        assert again is not None
        assert (again.id, again.attempts) == (media_id, 1)


def test_an_unexpected_error_is_retried_then_failed(
    jobless_client: TestClient,
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0))
    platform = _platform(jobless_client)

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs.clips, "public_clip", full_disk)
    now = utcnow()
    outcomes = []
    for attempt in range(jobs.MAX_ATTEMPTS):
        with platform.factory() as session:
            at = now + attempt * (jobs.LEASE + timedelta(seconds=1))
            if attempt:  # the claim before holds until it is LEASE old
                assert jobs.claim(session, at - timedelta(seconds=2)) is None
            row = jobs.claim(session, at)
            assert row is not None
            outcomes.append(jobs.process(session, platform.settings, row))
    assert outcomes == ["processing"] * (jobs.MAX_ATTEMPTS - 1) + ["failed"]
    info = ada.client.get(f"/api/v1/media/{media_id}/info").json()
    assert (info["state"], info["error"]) == ("failed", "processing failed 3 times")


def test_only_the_owner_sees_an_uploads_state(
    jobless_client: TestClient, mailbox: tuple[Mailbox, int], tmp_path: Path
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    bo = resident(jobless_client, mailbox[0], "bo@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0))
    assert bo.client.get(f"/api/v1/media/{media_id}/info").status_code == 404
    assert bo.client.get(f"/api/v1/media/{media_id}").status_code == 404
    with _platform(jobless_client).factory() as session:
        assert session.scalar(select(Media.state).where(Media.id == media_id)) == "processing"


def test_the_cli_processes_what_is_waiting(
    jobless_client: TestClient,
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ada = resident(jobless_client, mailbox[0], "ada@example.org")
    media_id = _upload(ada, pattern_clip(tmp_path, "porch.mp4", 1.0))
    settings = _platform(jobless_client).settings
    assert settings.database_url is not None
    monkeypatch.setenv("TOWNSQUARE_DATABASE_URL", settings.database_url.get_secret_value())
    monkeypatch.setenv("TOWNSQUARE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TOWNSQUARE_LOG_JSON", "false")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        first = CliRunner().invoke(app, ["media", "process", "--once"])
        second = CliRunner().invoke(app, ["media", "process", "--once"])
    finally:  # the command installs its own log handler on CliRunner's stream
        root.handlers[:], root.level = handlers, level
    assert first.exit_code == 0, first.output
    assert "1 upload processed" in first.output
    assert "0 uploads processed" in second.output
    assert ada.client.get(f"/api/v1/media/{media_id}/info").json()["state"] == "ready"
