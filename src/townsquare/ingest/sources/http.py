"""Fetching for every adapter: files or http(s), bounded, with conditional requests.

A fetch runs inside `conditional(cursor)` when the caller keeps validators between polls
(the scheduler does): the first request of the fetch sends If-None-Match /
If-Modified-Since, a 304 raises NotModified, and the new validators are written back to the
cursor. A context variable carries them so that the adapter contract stays `fetch(config)`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from townsquare import __version__
from townsquare.errors import SourceError
from townsquare.ingest.config import SourceConfig
from townsquare.ingest.sources.base import MAX_DEPTH, TooDeep

USER_AGENT = f"townsquare/{__version__} (+https://townsquare.example)"
_CURSOR: ContextVar[dict[str, Any] | None] = ContextVar("townsquare_fetch_cursor", default=None)


class NotModified(Exception):
    """The server says the resource has not changed since the validators in the cursor."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response body and what the server said about it."""

    url: str
    content: bytes
    content_type: str


@contextlib.contextmanager
def conditional(cursor: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Within this block, the first request of a URL is conditional on `cursor`'s validators."""
    token = _CURSOR.set(cursor)
    try:
        yield cursor
    finally:
        _CURSOR.reset(token)


def current_cursor() -> dict[str, Any] | None:
    """The poll cursor of the fetch in progress, if the caller keeps one (incremental reads)."""
    return _CURSOR.get()


def read_location(config: SourceConfig) -> Fetched:
    """The whole document at `config.location`: a file, or one GET of the URL."""
    if config.is_url():
        return get(config, config.location, conditional_ok=True)
    try:
        data = Path(config.location).read_bytes()
    except OSError as exc:
        raise SourceError(f"{config.location}: {exc.strerror or exc}") from exc
    return Fetched(config.location, data, "")


def get(
    config: SourceConfig,
    url: str,
    params: Mapping[str, str] | None = None,
    *,
    conditional_ok: bool = False,
) -> Fetched:
    """GET `url` with the source's timeout, headers and size limit; SourceError on failure."""
    headers = {"User-Agent": USER_AGENT, **config.http.headers}
    if config.http.token_env:
        token = os.environ.get(config.http.token_env)
        if token:
            headers[config.http.token_header] = token
    cursor = _CURSOR.get() if conditional_ok else None
    if cursor is not None:
        if cursor.get("etag"):
            headers["If-None-Match"] = str(cursor["etag"])
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = str(cursor["last_modified"])
    timeout = httpx.Timeout(config.http.timeout_s)
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, params=params, headers=headers) as response,
        ):
            if response.status_code == 304 and cursor is not None:
                raise NotModified(url)
            content = _bounded(response, config.http.max_bytes)
    except httpx.TimeoutException as exc:
        raise SourceError(f"{url}: timed out after {config.http.timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: {type(exc).__name__}: {exc}") from exc
    kind = response.headers.get("content-type", "")
    if response.status_code >= 400:
        raise SourceError(f"{url}: HTTP {response.status_code}: {error_message(content, kind)}")
    if kind.split(";")[0].strip().lower() in {"text/html", "application/xhtml+xml"}:
        # A login page, a portal's error page or a captive portal: never a feed.
        raise SourceError(f"{url}: the server sent a web page ({kind}), not a feed")
    if cursor is not None:
        cursor["etag"] = response.headers.get("etag")
        cursor["last_modified"] = response.headers.get("last-modified")
    return Fetched(str(response.url), content, kind)


def _bounded(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise SourceError(f"{response.url}: response larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def error_message(content: bytes, content_type: str = "") -> str:
    """The message of an error body: Socrata's, ArcGIS's, problem+json, or its first line."""
    try:
        body = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", "replace").strip()
        return text.splitlines()[0][:300] if text else "(empty body)"
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # ArcGIS: {"error": {"code": 400, "message": ...}}
            details = error.get("details") or []
            extra = f" ({'; '.join(map(str, details))})" if details else ""
            return f"{error.get('message', 'error')}{extra}"[:500]
        for key in ("message", "detail", "title", "errorMessage"):  # Socrata and RFC 9457
            if isinstance(body.get(key), str):
                code = body.get("code") or body.get("errorCode")
                return f"{code}: {body[key]}" if isinstance(code, str) else str(body[key])
    return json.dumps(body)[:300]


def parse_json(fetched: Fetched) -> Any:
    """The JSON document of a response; SourceError names where it broke (truncated bodies)."""
    try:
        return json.loads(fetched.content)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{fetched.url}: not UTF-8 JSON: {exc}") from exc
    except RecursionError:  # the decoder recurses per level: a hostile body nests thousands
        raise SourceError(f"{fetched.url}: JSON nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"{fetched.url}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            + (" (truncated?)" if exc.pos >= len(fetched.content) - 1 else "")
        ) from exc


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A JSON object as dotted paths -> text ("attributes.CALL_TIME": "1787270820000").

    Lists are indexed ("geometry.coordinates.0"); null becomes "" (missing); numbers keep
    their JSON spelling, so nothing is rounded on the way.
    """
    out: dict[str, str] = {}
    _flatten(value, prefix, out, 0)
    return out


def _flatten(value: Any, path: str, out: dict[str, str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TooDeep(path)
    if isinstance(value, dict):
        prefix = f"{path}." if path else ""
        for key, item in value.items():
            # Strings and integers, most of a feature, are written here without recursing.
            kind = type(item)
            if kind is str:
                out[f"{prefix}{key}"] = item
            elif kind is int:
                out[f"{prefix}{key}"] = int.__repr__(item)  # as json.dumps spells them
            elif kind is float and math.isfinite(item):
                out[f"{prefix}{key}"] = float.__repr__(item)  # as json.dumps spells them
            else:
                _flatten(item, f"{prefix}{key}", out, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, f"{path}.{index}" if path else str(index), out, depth + 1)
    elif value is None:
        out[path] = ""
    elif isinstance(value, str):
        out[path] = value
    else:
        out[path] = json.dumps(value)


def at_path(document: Any, path: str) -> Any:
    """The value at a dotted path of a JSON document ("" is the document itself)."""
    found = document
    for part in [p for p in path.split(".") if p]:
        if isinstance(found, dict) and part in found:
            found = found[part]
        elif isinstance(found, list) and part.isdecimal() and int(part) < len(found):
            found = found[int(part)]
        else:
            raise SourceError(f"no {part!r} at {path!r} in the document")
    return found
