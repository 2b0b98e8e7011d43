"""What the Docker engine adds to reservations: every instance's state
(``pm_instance_states_json``) and reconciling the store with the engine
(``pm_reconcile``): the records and the manager's methods."""

from __future__ import annotations

from collections import namedtuple
from ctypes import byref, c_size_t, create_string_buffer

from . import _header, _lib
from ._args import path as _path, text as _text
from .errors import BufferTooSmallError

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, TypeVar

    from ._args import PathArg

    _T = TypeVar("_T")

__all__ = ["InstanceState", "InstanceStates", "ReconcileAction", "Watching", "STATES_ALL", "RECONCILE_DRY_RUN"]

#: ``pm_states_flags`` and ``pm_reconcile_flags`` of the header.
STATES_ALL = _header.PM_STATES_ALL
RECONCILE_DRY_RUN = _header.PM_RECONCILE_DRY_RUN


class InstanceState(
    namedtuple(
        "InstanceState",
        "service environment instance state container container_state owner owner_kind pid pid_namespace"
        " liveness command since expires reserved_as port_in_use probe ports",
    )
):
    """One instance's state (:meth:`PortManager.status`), the keys of ``pm_instance_states_json``.

    Fields:

    - ``service`` (str), ``environment`` (str, ``""`` for none), ``instance`` (int)
    - ``state`` (str): ``"running"`` (its container runs), ``"stopped"`` (its container
      exists, not running), ``"reserved"`` (no container yet), ``"in_use"`` (not reserved,
      a port held by a container or a process), ``"conflict"`` (reserved by one owner while
      another container or process holds a port) or ``"free"``.
    - ``container`` (Optional[str]): the container the row is about.
    - ``container_state`` (Optional[str]): Docker's word (``"running"``, ``"exited"``, ...),
      ``"unknown"`` when the engine could not be asked, ``None`` for no container.
    - ``owner``, ``owner_kind``, ``pid``, ``pid_namespace``, ``liveness``, ``command``,
      ``since``, ``expires``: the reservation's, as :class:`ReservationInfo`; ``None`` when not reserved.
    - ``reserved_as`` (Optional[Dict[str, Any]]): ``{"service", "environment", "instance"}`` when
      the reservation holding its ports is another instance's.
    - ``port_in_use`` (Optional[int]) and ``probe`` (Optional[Dict[str, Any]]): for ``in_use`` and
      ``conflict``, the port held and its probe document (holders with ``container``).
    - ``ports`` (Dict[str, int]): port name -> first host port.
    """

    __slots__ = ()

    @classmethod
    def from_json(cls, item: Dict[str, Any]) -> "InstanceState":
        return cls(*(item[key] for key in cls._fields))


class InstanceStates(list):  # type: ignore[type-arg]
    """The rows of :meth:`PortManager.status` (a list of :class:`InstanceState`), and
    :attr:`docker_error`: why the Docker engine could not be asked, or ``None`` when it answered."""

    docker_error: Optional[str] = None


class ReconcileAction(namedtuple("ReconcileAction", "action service environment instance container container_state reason")):
    """One action of :meth:`PortManager.reconcile`, the keys of ``pm_reconcile``.

    - ``action`` (str): ``"reap"`` (the reservation of a gone container was removed),
      ``"adopt"`` (a container without a reservation was given one) or ``"skip"`` (it could
      not be: another reservation holds a port; ``reason`` names it).
    - ``service`` (str), ``environment`` (str), ``instance`` (int), ``container`` (str)
    - ``container_state`` (Optional[str]): Docker's word; ``None`` for a reap.
    - ``reason`` (str)
    """

    __slots__ = ()

    @classmethod
    def from_json(cls, item: Dict[str, Any]) -> "ReconcileAction":
        return cls(*(item[key] for key in cls._fields))


class Watching:
    """:class:`~portmanager.PortManager`'s Docker-aware methods (a mixin: the manager supplies ``_call``)."""

    __slots__ = ()

    if TYPE_CHECKING:
        def _call(self, function: Callable[..., _T], *arguments: Any) -> _T: ...

    def status(
        self, service: Optional[str] = None, *, all: bool = False, state_dir: Optional[PathArg] = None
    ) -> InstanceStates:
        """Every instance's state (``pm_instance_states_json``): those that are not free, or
        with ``all`` every one, as :class:`InstanceState` rows, from the store, a probe of every
        port and the Docker engine's containers (asked once; see docs/reservations.md).

        When the engine cannot be reached, :attr:`InstanceStates.docker_error` says why, no
        container is known (``container_state`` ``"unknown"``), nothing is reaped, and a reserved
        instance stays ``"reserved"``.

        Raises:
            UnknownServiceError, StateError, RegistryIOError (a ``/proc/net`` table).
        """
        name = None if service is None else _text(service, "service")
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        document = self._json_answer(_lib.lib.pm_instance_states_json, folder, name, STATES_ALL if all else 0)
        rows = InstanceStates(InstanceState.from_json(item) for item in document["instances"])
        rows.docker_error = document["docker"]["error"]
        return rows

    def reconcile(self, dry_run: bool = False, *, state_dir: Optional[PathArg] = None) -> List[ReconcileAction]:
        """Brings the store and the Docker engine into line (``pm_reconcile``): removes the
        reservations whose container is gone, and reserves each instance whose container exists
        without a reservation for that container. Returns what was done (with ``dry_run``, what
        would be done, changing nothing).

        Raises:
            DockerError: the engine cannot be reached or gave no usable answer; nothing changed.
            StateError.
        """
        folder = None if state_dir is None else _path(state_dir, "state_dir")
        actions = self._json_answer(_lib.lib.pm_reconcile, folder, RECONCILE_DRY_RUN if dry_run else 0)
        return [ReconcileAction.from_json(item) for item in actions]

    def _json_answer(self, function: Callable[..., int], *arguments: Any) -> Any:
        """``function(handle, *arguments, buffer, capacity, &needed)`` as JSON, the buffer grown until it fits."""
        needed = c_size_t(0)
        capacity = 4096
        while True:  # the answer may grow between two calls
            buffer = create_string_buffer(capacity)
            try:
                self._call(function, *arguments, buffer, capacity, byref(needed))
                break
            except BufferTooSmallError:
                capacity = max(needed.value, capacity * 2)
        import json  # only here: not every import of portmanager needs it

        return json.loads(buffer.value.decode("utf-8"))
