"""What a registry holds, read without allocating: :class:`~portmanager.PortManager`'s
service, port and environment methods (a mixin: the manager supplies ``_call`` and ``_memo``)."""

from __future__ import annotations

from ctypes import byref, c_int32, c_size_t, c_uint16

from . import _lib
from ._args import text as _text
from ._records import Allocation, Environment, PortDefinition, ServiceInfo

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Iterator, List, Tuple, TypeVar

    from ._instances import Instance

    _T = TypeVar("_T")


class Describing:
    """The registry's services, ports and environment, remembered per manager."""

    __slots__ = ()

    if TYPE_CHECKING:
        _memo: Dict[Tuple[Any, ...], Any]

        def _call(self, function: Callable[..., _T], *arguments: Any) -> _T: ...

        def instance(self, service: str, instance_id: int = 0) -> Instance: ...

    def list_services(self) -> List[str]:
        """Every service name, in file order."""
        names = self._memo.get(("services",))
        if names is None:

            def read(handle: int) -> Tuple[str, ...]:
                count = c_size_t()
                _lib.lib.pm_service_count(handle, byref(count))
                return tuple(_lib.read_string(_lib.lib.pm_service_name, handle, i) for i in range(count.value))

            names = self._memo[("services",)] = self._call(read)
        return list(names)

    def service_info(self, service: str) -> ServiceInfo:
        """A service's increment, max_instances and port names. Raises UnknownServiceError."""
        name = _text(service, "service")
        key = ("info", name)
        info = self._memo.get(key)
        if info is None:

            def read(handle: int) -> ServiceInfo:
                increment, max_instances, count = c_int32(), c_int32(), c_size_t()
                _lib.lib.pm_service_info(handle, name, byref(increment), byref(max_instances), byref(count))
                ports = tuple(_lib.read_string(_lib.lib.pm_port_name, handle, name, i) for i in range(count.value))
                return ServiceInfo(service, increment.value, max_instances.value, ports)

            info = self._memo[key] = self._call(read)
        return info

    def port_definition(self, service: str, port_type: str = "port") -> PortDefinition:
        """A port's instance-0 definition: base, count (range width) and container port (``None``: the host port)."""
        name = _text(service, "service")
        port_name = _text(port_type, "port_type")
        key = ("definition", name, port_name)
        definition = self._memo.get(key)
        if definition is None:
            base, count, container = c_uint16(), c_uint16(), c_uint16()
            self._call(_lib.lib.pm_port_definition, name, port_name, byref(base), byref(count), byref(container))
            definition = self._memo[key] = PortDefinition(
                service, port_type, base.value, count.value, container.value or None
            )
        return definition

    @property
    def source(self) -> str:
        """Where the registry came from: its file path, or the ``source`` given to :meth:`from_yaml`."""
        source = self._memo.get(("source",))
        if source is None:
            source = self._memo[("source",)] = self._call(
                lambda handle: _lib.read_string(_lib.lib.pm_registry_source, handle)
            )
        return source

    @property
    def environment(self) -> Environment:
        """The environment in force: its name (``None`` for none) and offset."""
        environment = self._memo.get(("environment",))
        if environment is None:
            name, offset = self._call(_lib.registry_environment)
            environment = self._memo[("environment",)] = Environment(name or None, offset)
        return environment

    def allocations(self) -> Iterator[Allocation]:
        """Every port of every instance of every service, in file order: the data behind a summary.

        Enumerating is not allocating, so nothing is logged. Each instance is
        the library's (:meth:`instance`): ports, container ports, protocols and host IPs.
        """
        for service in self.list_services():
            for instance in range(self.service_info(service).max_instances):
                yield from self.instance(service, instance).ports

