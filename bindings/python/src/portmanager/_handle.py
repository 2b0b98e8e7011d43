"""The owner of one ``pm_registry *``: frees it exactly once, never under a call in flight."""

from __future__ import annotations

from _thread import allocate_lock

from . import _lib
from .errors import InvalidArgumentError

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Callable, Optional


class Handle:
    """Owns one ``pm_registry *`` and frees it exactly once, never under a call in flight.

    ``pm_registry_close`` must not race with other calls on the handle, so each
    call holds the handle through :meth:`acquire`/:meth:`release`, and
    :meth:`close` defers the free to the last such call.
    """

    __slots__ = ("_pointer", "_users", "_closing", "_lock", "_on_free", "__weakref__")

    def __init__(self, pointer: int, on_free: Callable[[], None]) -> None:
        self._pointer: Optional[int] = pointer
        self._users = 0
        self._closing = False
        self._lock = allocate_lock()
        self._on_free = on_free

    @property
    def closed(self) -> bool:
        return self._closing

    def acquire(self) -> int:
        lock = self._lock
        lock.acquire()
        pointer = self._pointer
        if self._closing or pointer is None:
            lock.release()
            raise InvalidArgumentError(InvalidArgumentError.STATUS, "this PortManager is closed")
        self._users += 1
        lock.release()
        return pointer

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            if self._closing and self._users == 0:
                self._free()

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            if self._users == 0:
                self._free()

    def _free(self) -> None:
        pointer, self._pointer = self._pointer, None
        if pointer is not None:
            self._on_free()
            _lib.lib.pm_registry_close(pointer)
