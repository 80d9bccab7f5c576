"""The exception tree; each error carries its HTTP status and becomes RFC 9457 problem+json.

TownsquareError (500)
├── NotFound (404)
├── InvalidParameter (422): names the parameter
│   └── InvalidBody (400): a body that cannot be parsed; names the field (or `body`)
├── Conflict (409)
├── Unauthorized (401): no valid session or token
├── Forbidden (403): signed in, but not allowed
├── TooManyRequests (429): a rate limit or a sign-in lockout
├── PayloadTooLarge (413): an upload over its limit
├── StorageFull (507): the disk (or the store's) is full; nothing half-written is kept
└── SourceError (502): a feed could not be read
    └── ConfigError (400 when served, exit 2 in the CLI): a source file is wrong
"""

from __future__ import annotations

import errno


class TownsquareError(Exception):
    """Base of every error the platform raises on purpose."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def type_slug(self) -> str:
        """Stable slug used in the problem `type` URI."""
        return self.title.lower().replace(" ", "-")


class NotFound(TownsquareError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    title = "Not found"


class InvalidParameter(TownsquareError):
    """A request parameter is malformed or out of range."""

    status = 422
    title = "Invalid parameter"

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter


class InvalidBody(InvalidParameter):
    """A request body that cannot be parsed: malformed, badly encoded, nested too deep."""

    status = 400
    title = "Invalid body"


class Conflict(TownsquareError):
    """The request contradicts the current state."""

    status = 409
    title = "Conflict"


class Unauthorized(TownsquareError):
    """No valid session, token or credentials."""

    status = 401
    title = "Unauthorized"


class Forbidden(TownsquareError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class TooManyRequests(TownsquareError):
    """A rate limit or a sign-in lockout; retry later."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        """Seconds until a retry may succeed (the `Retry-After` header), when known."""


class PayloadTooLarge(TownsquareError):
    """An upload is larger or longer than its limit."""

    status = 413
    title = "Payload too large"


class StorageFull(TownsquareError):
    """A write failed for want of space: the disk, a quota, or a file size limit."""

    status = 507
    title = "Insufficient storage"


FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
FULL_SQLSTATES = {"53100", "53200"}
"""PostgreSQL's disk_full and out_of_memory."""
FULL_MESSAGES = ("database or disk is full", "disk i/o error", "no space left on device")
"""SQLite's SQLITE_FULL and SQLITE_IOERR (a write refused by the file system), the OS's."""


def out_of_space(exc: BaseException) -> bool:
    """Whether `exc` (an OSError, or a driver error SQLAlchemy wraps) means the disk is full."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, OSError) and cause.errno in FULL_ERRNOS:
        return True
    if getattr(cause, "sqlstate", None) in FULL_SQLSTATES:
        return True
    return any(text in str(cause).lower() for text in FULL_MESSAGES)


class SourceError(TownsquareError):
    """A feed could not be fetched or parsed as a whole."""

    status = 502
    title = "Source error"


class ConfigError(SourceError):
    """A source configuration file is invalid."""

    status = 400
    title = "Invalid source configuration"
