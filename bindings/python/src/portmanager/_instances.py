"""One service instance as the library resolves it: :meth:`PortManager.instance`,
:meth:`PortManager.docker_run_kwargs` and :meth:`PortManager.env`.

Everything here is read from the library's own documents
(``pm_instance_docker_json``, ``pm_instance_env``), so the ports, container
ports, names, labels and variable names are the ones ``portmanager docker-args``
and ``portmanager env`` print: nothing is computed twice. Reading an instance
is not allocating: nothing is logged.
"""

from __future__ import annotations

import json
from collections import namedtuple

from . import _lib
from ._args import integer as _integer, text as _text
from ._records import Allocation
from .errors import InvalidArgumentError

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar, Union

    from ._records import Environment, PortDefinition, ServiceInfo

    _T = TypeVar("_T")
    #: The Docker SDK's form of one published port: a host port, or (host_ip, host port).
    PortBinding = Union[int, Tuple[str, int]]

__all__ = ["Instance", "Instances"]


class Instance(namedtuple("Instance", "service instance environment container_name volume_name image labels ports")):
    """One instance of one service in the manager's environment (:meth:`PortManager.instance`).

    Fields:

    - ``service`` (str)
    - ``instance`` (int)
    - ``environment`` (Optional[str]): The environment in force, ``None`` for none.
    - ``container_name`` (str): ``kafka-development-1`` (docs/registry.md, "Names").
    - ``volume_name`` (str): ``kafka-data-1``.
    - ``image`` (Optional[str]): The registry's ``image:``.
    - ``labels`` (Dict[str, str]): ``io.portmanager.service``, ``io.portmanager.instance``
      and ``io.portmanager.environment``.
    - ``ports`` (Tuple[Allocation, ...]): Every port, in registry order, with its
      protocol, host IP and container port.
    """

    __slots__ = ()


class Instances:
    """:class:`~portmanager.PortManager`'s instance methods (a mixin: the manager supplies the rest)."""

    __slots__ = ()

    if TYPE_CHECKING:
        _memo: Dict[Tuple[Any, ...], Any]

        def _call(self, function: Callable[..., _T], *arguments: Any) -> _T: ...

        def _allocating(
            self, function: Callable[..., Any], service: bytes, instance: int, *rest: Any, port: Optional[bytes] = None
        ) -> None: ...

        def service_info(self, service: str) -> ServiceInfo: ...

        def port_definition(self, service: str, port_type: str = "port") -> PortDefinition: ...

        @property
        def environment(self) -> Environment: ...

    def _document(self, function: Callable[..., int], kind: str, service: Any, instance_id: Any, *rest: Any) -> str:
        """A string-returning ``pm_instance_*`` function's answer, remembered per (service, instance)."""
        name = _text(service, "service")
        instance = _integer(instance_id, "instance_id")
        key = (kind, name, instance) + rest
        text = self._memo.get(key)
        if text is None:
            result: List[str] = []

            def read(handle: int, service_name: bytes, clamped: int) -> None:
                result.append(_lib.read_string(function, handle, service_name, clamped, *rest))

            self._allocating(read, name, instance)
            text = self._memo[key] = result[0]
        return text

    def _docker(self, service: str, instance_id: int) -> Dict[str, Any]:
        """``pm_instance_docker_json``, parsed (a fresh copy each call)."""
        document = self._document(_lib.lib.pm_instance_docker_json, "docker", service, instance_id)
        return json.loads(document)  # type: ignore[no-any-return]

    def instance(self, service: str, instance_id: int = 0) -> Instance:
        """One instance, resolved by the library: names, image, labels and every port. Not logged.

        Raises:
            UnknownServiceError, InstanceOutOfRangeError, TypeError.
        """
        document = self._docker(service, instance_id)
        info = self.service_info(service)
        instance = _integer(instance_id, "instance_id")
        ports: List[Allocation] = []
        for binding in document["ports"]:
            if ports and ports[-1].port_type == binding["name"]:  # a tcp+udp port: its second protocol
                ports[-1] = ports[-1]._replace(protocol=ports[-1].protocol + "+" + binding["protocol"])
                continue
            ports.append(Allocation(
                info.name, instance, binding["name"], binding["host_port"], binding["host_port_last"],
                binding["container_port"], binding["container_port_last"],
                self.port_definition(service, binding["name"]).base, info.increment,
                binding["protocol"], binding["host_ip"],
            ))
        return Instance(info.name, instance, self.environment.name, document["name"], document["volume"],
                        document["image"], document["labels"], tuple(ports))

    def docker_run_kwargs(
        self, service: str, instance_id: int = 0, *, image: Optional[str] = None, volume_path: Optional[str] = None
    ) -> Dict[str, Any]:
        """Keyword arguments of the Docker SDK's ``containers.run`` for one instance. Not logged.

        ``docker.from_env().containers.run(image, detach=True, **pm.docker_run_kwargs("kafka", 1))``
        starts the instance as ``portmanager docker-args kafka -i 1`` describes it:

        - ``name``: the container name;
        - ``ports``: ``{"CONTAINER/PROTOCOL": HOST}``, one key per port inside the
          container (each port of a range its own key), the value the host port,
          or ``(host_ip, host_port)`` when the registry gives a host IP, or a list
          of those when several host ports reach one container port;
        - ``volumes``: ``{volume_name: {"bind": volume_path, "mode": "rw"}}`` when
          ``volume_path`` is given, else ``{}``;
        - ``labels``: ``io.portmanager.service``, ``io.portmanager.instance`` and
          ``io.portmanager.environment`` (``""`` for none);
        - ``image``: only when ``image`` is given, so that
          ``containers.run(detach=True, **kwargs)`` works too; with ``image=None``
          there is no ``image`` key and the image is passed to ``run`` itself (the
          registry's ``image:`` is :meth:`instance`'s ``image``).

        Raises:
            UnknownServiceError, InstanceOutOfRangeError, TypeError;
            InvalidArgumentError (a ``ValueError``) for a ``volume_path`` that is
            not an absolute path, or holds ``:`` (Docker's separator) or NUL.
        """
        if image is not None and not isinstance(image, str):
            raise TypeError(f"image must be a str or None, not {type(image).__name__}")
        if volume_path is not None:
            if not isinstance(volume_path, str):
                raise TypeError(f"volume_path must be a str or None, not {type(volume_path).__name__}")
            if not volume_path.startswith("/") or ":" in volume_path or "\0" in volume_path:
                raise InvalidArgumentError(
                    InvalidArgumentError.STATUS,
                    f"volume_path {volume_path!r} must be an absolute path without ':' or NUL")
        document = self._docker(service, instance_id)
        ports: Dict[str, Any] = {}
        for binding in document["ports"]:
            host_ip = binding["host_ip"]
            for offset in range(binding["host_port_last"] - binding["host_port"] + 1):
                key = f"{binding['container_port'] + offset}/{binding['protocol']}"
                host = binding["host_port"] + offset
                value: PortBinding = host if host_ip is None else (host_ip, host)
                if key not in ports:
                    ports[key] = value
                elif isinstance(ports[key], list):
                    ports[key].append(value)
                else:
                    ports[key] = [ports[key], value]
        volumes = {} if volume_path is None else {document["volume"]: {"bind": volume_path, "mode": "rw"}}
        kwargs: Dict[str, Any] = {"name": document["name"], "ports": ports, "volumes": volumes,
                                  "labels": document["labels"]}
        if image is not None:
            kwargs["image"] = image
        return kwargs

    def env(self, service: str, instance_id: int = 0, *, prefix: Optional[str] = None) -> Dict[str, str]:
        """The instance's environment variables, ``{"KAFKA_BROKER_PORT": "9192", ...}`` in order. Not logged.

        The vocabulary of ``portmanager env`` (docs/environment.md), from the
        library (``pm_instance_env``): a variable per port (``_FIRST``/``_LAST``
        for a range, ``_CONTAINER`` when the port inside the container is
        another number), then ``PREFIX_CONTAINER_NAME`` and ``PREFIX_VOLUME_NAME``.
        ``prefix`` replaces the service part of every name (a shell variable name).

        Raises:
            UnknownServiceError, InstanceOutOfRangeError, TypeError;
            InvalidArgumentError for a prefix that is not a variable name, or
            two ports of the service that give one name.
        """
        text = self._document(_lib.lib.pm_instance_env, "env", service, instance_id,
                              None if prefix is None else _text(prefix, "prefix"))
        return dict(line.split("=", 1) for line in text.splitlines())
