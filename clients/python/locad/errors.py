"""Exceptions raised by the locad client.

Server errors carry the stable numeric code of protocol/SPEC.md ("Error codes"); each code has
its own subclass of :class:`LocadError`, so callers can catch ``locad.NotFoundError`` or test
``err.code == 4``.
"""

from __future__ import annotations

import builtins
from typing import Any, Optional

PARSE, METHOD, PARAMS, NOTFOUND, INVAL, NOMEM, BUSY, CANCELED, AUTH, NUMERIC, INTERNAL, \
    SHUTDOWN = range(1, 13)


class LocadError(Exception):
    """An error answered by the daemon: ``code`` (int, SPEC.md) and ``message`` (str)."""

    code = None

    def __init__(self, code: Optional[int], message: str):
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


class ParseError(LocadError):
    """1: malformed message."""


class MethodError(LocadError):
    """2: unknown or unimplemented method."""


class ParamsError(LocadError):
    """3: a parameter is missing or has the wrong MessagePack type."""


class NotFoundError(LocadError):
    """4: unknown (or deleted) mesh, problem, variable, term or energy."""


class InvalidError(LocadError):
    """5: invalid value (range, dtype/shape mismatch, NaN, bad index, invalid mesh)."""


class NoMemoryError(LocadError):
    """6: out of memory or object limit reached."""


class BusyError(LocadError):
    """7: the daemon's queue is full; try later."""


class CancelledError(LocadError):
    """8: the request was cancelled."""


class AuthError(LocadError):
    """9: authentication required or failed."""


class NumericError(LocadError):
    """10: numerical failure."""


class InternalError(LocadError):
    """11: a daemon bug."""


class ShutdownError(LocadError):
    """12: the daemon is shutting down."""


class TimeoutError(LocadError, builtins.TimeoutError):  # pylint: disable=redefined-builtin
    """No response within the call's timeout (client side; ``code`` is None)."""

    def __init__(self, message: str):
        LocadError.__init__(self, None, message)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


class ConnectionClosed(LocadError, ConnectionError):
    """The connection to the daemon was lost before the response arrived."""

    def __init__(self, message: str):
        LocadError.__init__(self, None, message)
        self.args = (message,)

    def __str__(self) -> str:
        return self.message


_BY_CODE = {
    PARSE: ParseError, METHOD: MethodError, PARAMS: ParamsError, NOTFOUND: NotFoundError,
    INVAL: InvalidError, NOMEM: NoMemoryError, BUSY: BusyError, CANCELED: CancelledError,
    AUTH: AuthError, NUMERIC: NumericError, INTERNAL: InternalError, SHUTDOWN: ShutdownError,
}


def error_from_wire(err: Any) -> LocadError:
    """Builds the exception for a response's ``error`` field (``[code, message]``)."""
    if isinstance(err, (list, tuple)) and len(err) >= 2 and isinstance(err[0], int):
        code, message = err[0], str(err[1])
    else:
        code, message = INTERNAL, f"malformed error field: {err!r}"
    return _BY_CODE.get(code, LocadError)(code, message)
