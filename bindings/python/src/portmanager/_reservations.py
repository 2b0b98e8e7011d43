"""Reservations in the store (``pm_reserve_instance``, ``pm_release``, ``pm_renew``,
``pm_reservation_bind_container``): the owners, the records and the manager's methods."""

from __future__ import annotations

from collections import namedtuple
from ctypes import byref, c_int32, c_size_t, create_string_buffer

from . import _header, _lib
from ._args import integer as _integer, path as _path, text as _text
from .errors import BufferTooSmallError, InstanceOutOfRangeError, InvalidArgumentError

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar, Union

    from ._args import PathArg
    from ._records import Environment
    from .manager import PortManager

    _T = TypeVar("_T")

__all__ = [
    "Reservation",
    "ReservationInfo",
    "Container",
    "CONTAINER_NAME",
    "RESERVE_NO_PROBE",
    "RESERVE_FORCE",
    "RESERVE_CONTAINER_OWNER",
    "RESERVE_ADOPT",
    "Reserving",
]

#: ``pm_reserve_flags`` of the header.
RESERVE_NO_PROBE = _header.PM_RESERVE_NO_PROBE
RESERVE_FORCE = _header.PM_RESERVE_FORCE
RESERVE_CONTAINER_OWNER = _header.PM_RESERVE_CONTAINER_OWNER
RESERVE_ADOPT = _header.PM_RESERVE_ADOPT


class Container:
    """As an owner: a Docker container, by name (``Container("kafka-development-1")``).

    The reservation lasts while a container of that name exists on the Docker
    engine (running or stopped), until released, or until its TTL (if any) runs
    out. The name must be one Docker accepts (``[a-zA-Z0-9][a-zA-Z0-9_.-]+``; a
    leading ``/`` is dropped); the library refuses others with ``InvalidArgumentError``.
    Immutable and hashable; two are equal when their names are.
    """

    __slots__ = ("name",)

    name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Container name must be a str, not {type(name).__name__}")
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("portmanager.Container is immutable")

    def __delattr__(self, key: str) -> None:
        raise AttributeError("portmanager.Container is immutable")

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Container and other.name == self.name

    def __hash__(self) -> int:
        return hash((Container, self.name))

    def __repr__(self) -> str:
        return f"portmanager.Container({self.name!r})"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (Container, (self.name,))


class _ContainerName:
    """The type of :data:`CONTAINER_NAME`."""

    def __repr__(self) -> str:
        return "portmanager.CONTAINER_NAME"


#: As an owner: the container of the instance reserved, by its container name
#: (``kafka-development-1``): :class:`Container` of that name.
CONTAINER_NAME = _ContainerName()

#: An owner argument: ``None`` (this process), a name, a :class:`Container` or :data:`CONTAINER_NAME`.
if TYPE_CHECKING:
    Owner = Union[str, Container, _ContainerName, None]


def _owner(owner: Any) -> Tuple[Optional[bytes], int]:
    """An owner argument as (owner for C, flags)."""
    if owner is None:
        return None, 0
    if owner is CONTAINER_NAME:
        return None, RESERVE_CONTAINER_OWNER
    if owner.__class__ is Container:
        return _text(owner.name, "container"), RESERVE_CONTAINER_OWNER
    return _text(owner, "owner"), 0


def _ttl(ttl: Any) -> int:
    seconds = _integer(ttl, "ttl")
    if seconds < 1:
        raise InvalidArgumentError(InvalidArgumentError.STATUS, f"ttl {seconds} must be 1 or more seconds (None for no expiry)")
    return seconds


class ReservationInfo(
    namedtuple(
        "ReservationInfo",
        "service environment instance owner owner_kind pid command since expires ports host_ports"
        " pid_namespace liveness",
    )
):
    """One reservation as the store holds it (:meth:`PortManager.reservations`).

    Fields:

    - ``service`` (str)
    - ``environment`` (str)
    - ``instance`` (int)
    - ``owner`` (str): The owner's name or container name, or ``"process PID"``.
    - ``owner_kind`` (str): ``"process"``, ``"name"`` or ``"container"``.
    - ``pid`` (Optional[int])
    - ``command`` (Optional[str])
    - ``since`` (int): Seconds since the epoch.
    - ``expires`` (Optional[int]): Seconds since the epoch, or ``None`` for never.
    - ``ports`` (Dict[str, int]): port name -> first host port.
    - ``host_ports`` (Tuple[int, ...]): every host port, ascending.
    - ``pid_namespace`` (Optional[int]): the inode of the owning process's PID namespace, when known.
    - ``liveness`` (Optional[str]): for a process owner, ``"alive"``, or ``"unknown"`` when it is in
      another PID namespace than this process (which then never reaps it); ``None`` for a name or container.
    """

    __slots__ = ()

    @classmethod
    def from_json(cls, item: Dict[str, Any]) -> "ReservationInfo":
        return cls(
            item["service"], item["environment"], item["instance"], item["owner"], item["owner_kind"],
            item["pid"], item["command"], item["since"], item["expires"], dict(item["ports"]),
            tuple(item["host_ports"]), item["pid_namespace"], item["liveness"],
        )


class Reservation:
    """A reservation made by :meth:`PortManager.reserve`.

    It lives in the store, not in this object: it outlives the object (and, for a
    named or container owner, this process) until released, expired, or (for a
    process owner) until the process ends. A ``with`` block releases it when the
    block ends; when the block raises, only a :attr:`fresh` reservation is released
    (one that is not fresh was the owner's before this call, and may be running).
    """

    def __init__(
        self, manager: PortManager, service: str, instance: int, owner: Any, state_dir: Optional[PathArg],
        fresh: bool = True,
    ) -> None:
        self._manager = manager
        self._state_dir = state_dir
        #: The service reserved.
        self.service: str = service
        #: The instance reserved.
        self.instance: int = instance
        #: The container name of the instance.
        self.container_name: str = manager.container_name(service, instance)
        #: The owner: ``None`` for this process, a name, or a :class:`Container`.
        self.owner: Union[str, Container, None] = Container(self.container_name) if owner is CONTAINER_NAME else owner
        #: True when this call created the reservation; False when the owner held it already (a retry).
        self.fresh: bool = fresh
        #: port name -> host port (the first port of a range).
        self.ports: Dict[str, int] = manager.get_ports(service, instance)
        self._released = False

    @property
    def released(self) -> bool:
        """True once :meth:`release` ran (a release by someone else is not seen here)."""
        return self._released

    def release(self, force: bool = False) -> bool:
        """Releases the reservation; ``True`` if it was still held. Releasing again returns ``False``."""
        released = self._manager.release(
            self.service, self.instance, self.owner, force=force, state_dir=self._state_dir
        )
        self._released = True
        return released

    def renew(self, ttl: int) -> None:
        """It now expires ``ttl`` seconds from now."""
        self._manager.renew(self.service, self.instance, ttl, self.owner, state_dir=self._state_dir)

    def bind(self, container: Optional[str] = None) -> None:
        """Hands the reservation to its container once started (:meth:`PortManager.bind`);
        :attr:`owner` becomes that :class:`Container`, which :meth:`release` then releases as."""
        self._manager.bind(self.service, self.instance, container, owner=self.owner, state_dir=self._state_dir)
        if container is None:
            container = self.container_name
        self.owner = Container(container[1:] if container.startswith("/") else container)  # as the library keeps it

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, exc_type: Any, *exc_info: Any) -> None:
        if not self._released and (exc_type is None or self.fresh):
            self.release()

    def __repr__(self) -> str:
        owner = "this process" if self.owner is None else repr(self.owner)
        state = "released" if self._released else "reserved"
        fresh = "" if self.fresh else " not fresh"
        return f"<Reservation {self.service} instance={self.instance} owner={owner} ports={self.ports} {state}{fresh}>"


class Reserving:
    """:class:`~portmanager.PortManager`'s reservation methods (a mixin: the manager
    supplies ``_call`` and ``_allocating``)."""

    __slots__ = ()

    if TYPE_CHECKING:
        def _call(self, function: Callable[..., _T], *arguments: Any) -> _T: ...

        def _allocating(self, function: Callable[..., Any], service: bytes, instance: int, *rest: Any,
                        port: Optional[bytes] = None) -> None: ...

        @property
        def environment(self) -> Environment: ...


    def reserve(
        self,
        service: str,
        instance_id: Optional[int] = None,
        owner: "Owner" = None,
        ttl: Optional[int] = None,
        *,
        probe: bool = True,
        adopt: bool = False,
        state_dir: Optional[PathArg] = None,
    ) -> "Reservation":
        """Reserves every host port of one instance of a service in the store (``pm_reserve_instance``).

        A reservation is exclusive: an instance anyone else holds is refused. So
        is an instance whose container exists on the Docker engine without a
        reservation (found by its ``io.portmanager.*`` labels, else by its
        container name), or one whose host port a container publishes; without
        an ``instance_id`` such instances are skipped. When the engine cannot be
        reached, neither is checked.

        Args:
            service: the service.
            instance_id: the instance, or ``None`` for the lowest one that is neither
                reserved nor (with ``probe``) in use now (always a new reservation).
                ``-1`` is an error.
            owner: ``None`` for this process (the reservation ends when it exits), a
                name (a workflow ID) that keeps it until released or expired, a
                :class:`Container` that keeps it while a container of that name exists,
                or :data:`CONTAINER_NAME` for the container of the instance reserved.
                The same owner reserving the same instance again succeeds (a retry),
                with :attr:`Reservation.fresh` false.
            ttl: seconds (1 or more) until the reservation expires unless renewed; ``None`` for never.
            probe: skip (or refuse) instances whose ports are in use now (``False`` sets
                ``PM_RESERVE_NO_PROBE``).
            adopt: with an ``instance_id``, when the instance's container exists
                without a reservation, reserve it for that container
                (``PM_RESERVE_ADOPT``): :attr:`Reservation.owner` is then that
                :class:`Container`, not ``owner``.
            state_dir: the store's directory; ``None`` for ``$PORTMANAGER_STATE_DIR``, else
                the per-user default (see the README).

        Returns:
            a :class:`Reservation`; a ``with`` block releases it on exit (on an
            exception, only when :attr:`~Reservation.fresh`).

        Raises:
            ReservedError: the instance (or every instance) is taken; the message names the
                owner, or the container that runs without a reservation.
            InvalidArgumentError: ``adopt`` without an ``instance_id``, or a bad argument.
            StateError: the store is refused (the message names the file).
            UnknownServiceError, InstanceOutOfRangeError, InvalidArgumentError.

        An exception raised after the library committed the reservation and
        before this returns it (``KeyboardInterrupt``: Python raises a Ctrl-C
        that arrived during the call, which may wait up to 10 s for the store,
        as soon as the call returns) releases it again before it propagates, so
        no reservation is left that nobody knows of, when this call created it
        (one the same owner held before is left to its owner).
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=True)
        owner_bytes, flags = _owner(owner)
        seconds = 0 if ttl is None else _ttl(ttl)
        if not probe:
            flags |= RESERVE_NO_PROBE
        if adopt:
            flags |= RESERVE_ADOPT
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        out = c_int32(-1)
        fresh = c_int32(-1)
        try:
            self._in_store(
                _lib.lib.pm_reserve_instance, folder, name, instance, owner_bytes, seconds, flags, byref(out), byref(fresh)
            )
            manager: PortManager = self  # type: ignore[assignment]  # the mixin's only class
            if adopt and fresh.value == 1:
                owner = manager._adopter(service, out.value, owner, state_dir)
            return Reservation(manager, service, out.value, owner, state_dir, fresh=fresh.value == 1)
        except BaseException:
            # pm_reserve_instance writes its out-parameters only when it committed.
            if fresh.value == 1:
                self._release_interrupted(folder, name, out.value, owner_bytes, flags & RESERVE_CONTAINER_OWNER)
            raise

    def _adopter(self, service: str, instance: int, owner: Any, state_dir: Optional[PathArg]) -> Any:
        """The owner of a reservation just made with ``adopt``: the adopted :class:`Container`, else ``owner``."""
        environment = self.environment.name or ""
        for row in self.reservations(service, state_dir=state_dir):
            if row.instance == instance and row.environment == environment and row.owner_kind == "container":
                return Container(row.owner)
        return owner

    def _release_interrupted(
        self, folder: Optional[bytes], name: bytes, instance: int, owner: Optional[bytes], flags: int
    ) -> None:
        """Releases a reservation whose :meth:`reserve` was interrupted; the interruption is what the caller sees."""
        try:
            self._call(_lib.lib.pm_release, folder, name, instance, owner, flags, byref(c_int32(0)))
        except BaseException:  # a second Ctrl-C, a refused store: the first exception still propagates
            pass

    def release(
        self,
        service: str,
        instance_id: int,
        owner: "Owner" = None,
        *,
        force: bool = False,
        state_dir: Optional[PathArg] = None,
    ) -> bool:
        """Releases the reservation of one instance (``pm_release``): its ports are free at once.

        Only its owner (as for :meth:`reserve`) may release it, unless ``force``.

        Returns:
            ``True`` when a reservation was released, ``False`` when the instance was free.

        Raises:
            NotOwnerError: someone else owns it (the message names the owner).
            StateError, UnknownServiceError, InstanceOutOfRangeError, InvalidArgumentError.
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=False)
        owner_bytes, flags = _owner(owner)
        if force:
            flags |= RESERVE_FORCE
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        released = c_int32(0)
        self._in_store(_lib.lib.pm_release, folder, name, instance, owner_bytes, flags, byref(released))
        return released.value == 1

    def renew(
        self,
        service: str,
        instance_id: int,
        ttl: int,
        owner: "Owner" = None,
        *,
        state_dir: Optional[PathArg] = None,
    ) -> None:
        """Renews a reservation (``pm_renew``): it now expires ``ttl`` seconds (1 or more) from now.

        Raises:
            NotOwnerError: the instance is not reserved, or someone else owns it.
            StateError, UnknownServiceError, InstanceOutOfRangeError, InvalidArgumentError.
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=False)
        owner_bytes, flags = _owner(owner)
        seconds = _ttl(ttl)
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        self._in_store(_lib.lib.pm_renew, folder, name, instance, owner_bytes, seconds, flags)

    def bind(
        self,
        service: str,
        instance_id: int,
        container: Optional[str] = None,
        owner: "Owner" = None,
        *,
        state_dir: Optional[PathArg] = None,
    ) -> None:
        """Hands a reservation from its owner to its container, once the container is started
        (``pm_reservation_bind_container``): it then lasts while a container of that name
        exists, and its TTL is dropped. Binding to the container that holds it already succeeds.

        Args:
            container: the container's Docker name; ``None`` for the instance's
                container name (:meth:`container_name`).
            owner: the reservation's owner now, as for :meth:`reserve` (``None``: this process).

        Raises:
            NotOwnerError: the instance is not reserved, or someone else (another
                container included) holds it; the message names the owner.
            InvalidArgumentError: a name Docker refuses.
            StateError, UnknownServiceError, InstanceOutOfRangeError.
        """
        name = _text(service, "service")
        instance = self._reservation_instance(instance_id, any_allowed=False)
        owner_bytes, flags = _owner(owner)
        target = None if container is None else _text(container, "container")
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        self._in_store(_lib.lib.pm_reservation_bind_container, folder, name, instance, owner_bytes, target, flags)

    def reservations(
        self, service: Optional[str] = None, *, state_dir: Optional[PathArg] = None
    ) -> List["ReservationInfo"]:
        """Every reservation in the store, or those of one service (``pm_reservations_json``).

        Expired reservations and those of ended processes are removed first.
        """
        name = None if service is None else _text(service, "service")
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        needed = c_size_t(0)
        capacity = 4096
        while True:  # the store may grow between two calls
            buffer = create_string_buffer(capacity)
            try:
                self._call(_lib.lib.pm_reservations_json, folder, name, buffer, capacity, byref(needed))
                break
            except BufferTooSmallError:
                capacity = max(needed.value, capacity * 2)
        import json  # only here: not every import of portmanager needs it

        return [ReservationInfo.from_json(item) for item in json.loads(buffer.value.decode("utf-8"))]

    def _in_store(
        self, function: Callable[..., Any], folder: Optional[bytes], service: bytes, instance: int, *rest: Any
    ) -> None:
        """``function(handle, state_dir, service, instance, *rest)``, an instance beyond int32 reported as is."""
        def call(handle: int, name: bytes, clamped: int, *more: Any) -> Any:
            return function(handle, folder, name, clamped, *more)

        if instance == -1:
            self._call(call, service, -1, *rest)
        else:
            self._allocating(call, service, instance, *rest)

    def _reservation_instance(self, instance_id: Any, any_allowed: bool) -> int:
        if instance_id is None:
            if any_allowed:
                return -1
            raise TypeError("instance_id must be an int, not None")
        instance = _integer(instance_id, "instance_id")
        if instance < 0:
            hint = "; give None for any instance" if instance == -1 and any_allowed else ""
            raise InstanceOutOfRangeError(InstanceOutOfRangeError.STATUS, f"instance_id {instance} is negative{hint}")
        return instance

