"""The plain records the manager answers with: an allocation, a service, a port, the environment.

They are :func:`collections.namedtuple` classes (typing.NamedTuple would build
the same, after importing typing).
"""

from __future__ import annotations

from collections import namedtuple

__all__ = ["Allocation", "ServiceInfo", "PortDefinition", "Environment"]


class Allocation(namedtuple("Allocation", "service instance port_type host_port host_port_last container_port container_port_last base increment protocol host_ip", defaults=("tcp", None))):
    """One port of one instance of one service, as a summary lists it.

    Fields:

    - ``service`` (str)
    - ``instance`` (int)
    - ``port_type`` (str)
    - ``host_port`` (int): The host port (the first of a range).
    - ``host_port_last`` (int): The last host port of a range; equal to ``host_port`` for a single port.
    - ``container_port`` (int): The port inside the container (docs/registry.md, "Container ports").
    - ``container_port_last`` (int)
    - ``base`` (int): The registry's instance-0 port, before any environment offset.
    - ``increment`` (int)
    - ``protocol`` (str): ``"tcp"`` (the default), ``"udp"`` or ``"tcp+udp"``.
    - ``host_ip`` (Optional[str]): The one host address it is published on, ``None`` for every address.
    """

    __slots__ = ()


class ServiceInfo(namedtuple("ServiceInfo", "name increment max_instances ports")):
    """A service's settings (``pm_service_info`` and ``pm_port_name``).

    Fields:

    - ``name`` (str)
    - ``increment`` (int)
    - ``max_instances`` (int)
    - ``ports`` (Tuple[str, ...]): Its port names, in file order (``"port"`` for single-port services).
    """

    __slots__ = ()


class PortDefinition(namedtuple("PortDefinition", "service name base width container_port")):
    """A port's definition for instance 0, before any environment offset (``pm_port_definition``).

    Fields:

    - ``service`` (str)
    - ``name`` (str)
    - ``base`` (int)
    - ``width`` (int): 1 for a single port, the width of a range otherwise (``pm_port_definition``'s count).
    - ``container_port`` (Optional[int]): The port inside the container, the same for every instance (the
      base port unless the registry fixes another), or ``None`` when it follows the host port (``container: host``).
    """

    __slots__ = ()


class Environment(namedtuple("Environment", "name offset")):
    """The environment in force (``pm_registry_environment``).

    Fields:

    - ``name`` (Optional[str]): Its name, or ``None`` when no environment is selected.
    - ``offset`` (int): Added to every host port; 0 for none.
    """

    __slots__ = ()
