"""Python arguments as the C functions take them: checked here, so that a bad
argument raises naming it instead of ctypes truncating or refusing it."""

from __future__ import annotations

import operator
import os

from .errors import InvalidArgumentError

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Any, Union

    PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def path(value: PathArg, argument: str) -> bytes:
    """A file-system path argument as bytes for C; refuses other types and NUL characters."""
    try:
        data = os.fsencode(value)
    except TypeError:
        raise TypeError(f"{argument} must be a str, bytes or os.PathLike, not {type(value).__name__}") from None
    if b"\0" in data:
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"{argument} {value!r} contains a NUL character")
    return data


def text(value: Any, argument: str) -> bytes:
    """A str argument as the UTF-8 bytes C expects; TypeError or InvalidArgumentError naming `argument`."""
    if not isinstance(value, str):
        raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"{argument} {value!r} contains a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgumentError(
            InvalidArgumentError.STATUS, f"{argument} {value!r} cannot be encoded as UTF-8: {error.reason}"
        ) from None


def integer(value: Any, argument: str) -> int:
    """An int argument (bool refused, ``__index__`` accepted); TypeError naming `argument`."""
    if value.__class__ is int:
        return value
    if isinstance(value, bool):
        raise TypeError(f"{argument} must be an int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{argument} must be an int, not {type(value).__name__}") from None


def int32(value: int) -> int:
    """`value` clamped into int32_t: the library then reports it out of range instead of ctypes truncating it."""
    return INT32_MIN if value < INT32_MIN else INT32_MAX if value > INT32_MAX else value


def int64(value: int) -> int:
    """`value` clamped into int64_t, as :func:`int32` does."""
    return INT64_MIN if value < INT64_MIN else INT64_MAX if value > INT64_MAX else value


def port(value: Any) -> int:
    """A port argument as C's int32_t: the library checks 1..65535 itself, for
    every value ctypes can pass unchanged; one beyond int32_t is refused here."""
    number = integer(value, "port")
    if not INT32_MIN <= number <= INT32_MAX:
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"port {number} is outside 1..65535")
    return number
