"""The ``params`` of the example orchestrator's activities, checked, and the per-service
defaults (:mod:`portmanager.examples.orchestrator` uses them). Bad params are refused
as a non-retryable ``ApplicationError`` of type ``"InvalidParams"`` naming the key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from temporalio.exceptions import ApplicationError

from .. import PortManager

__all__ = ["DEFAULT_VOLUME_PATH", "SERVICE_DEFAULTS", "ServiceDefaults", "StartRequest", "StopRequest",
           "kafka_environment", "invalid"]

#: Where an instance's volume is mounted when neither ``params`` nor the service's defaults say.
DEFAULT_VOLUME_PATH = "/data"


def kafka_environment(manager: PortManager, instance: int) -> Dict[str, str]:
    """The KRaft settings of the original spec's Kafka (broker and controller in one
    container): it listens on the container ports and advertises the host's broker port."""
    ports = {port.port_type: port for port in manager.instance("kafka", instance).ports}
    broker, controller = ports["broker_port"], ports["controller_port"]
    return {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://:{broker.container_port},CONTROLLER://:{controller.container_port}",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://localhost:{broker.host_port}",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": f"1@localhost:{controller.container_port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    }


@dataclass(frozen=True)
class ServiceDefaults:
    """What a service's containers get unless ``params`` says otherwise (the image is the registry's ``image:``)."""

    volume_path: str = DEFAULT_VOLUME_PATH
    #: Container variables of an instance, before ``params["environment"]``.
    environment: Optional[Callable[[PortManager, int], Dict[str, str]]] = None


#: Per-service defaults; a service not named here gets ``ServiceDefaults()``.
SERVICE_DEFAULTS: Dict[str, ServiceDefaults] = {
    "kafka": ServiceDefaults(volume_path="/var/lib/kafka/data", environment=kafka_environment),
}


def invalid(message: str) -> ApplicationError:
    """A non-retryable ``ApplicationError`` of type ``"InvalidParams"``."""
    return ApplicationError(message, type="InvalidParams", non_retryable=True)


def _checked(params: Any, known: Tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise invalid(f"params must be a dict, not {type(params).__name__}")
    unknown = sorted(str(key) for key in params if key not in known)
    if unknown:
        raise invalid(f"unknown params {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return params


def _typed(params: Mapping[str, Any], key: str, kinds: Tuple[type, ...], what: str) -> Any:
    value = params.get(key)
    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool) != (bool in kinds)):
        raise invalid(f"params[{key!r}] must be {what}, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class StartRequest:
    """The ``params`` of a start activity, checked (anything else is refused as ``InvalidParams``).

    - ``service`` (str; set by ``start_kafka_activity``)
    - ``instance_id`` (int): the instance; absent or ``None`` for the lowest free one
    - ``image`` (str): default the registry's ``image:``
    - ``command`` (str or list of str): each ``{PORT_NAME}`` becomes that port inside the
      container (``"{broker_port}"``), ``{instance}`` the instance, ``{container_name}`` its
      name; ``{{`` and ``}}`` are literal braces
    - ``environment`` (dict of str): container variables, over the service's defaults
    - ``volume_path`` (str, or ``None`` for no volume): where the instance's volume is mounted
    - ``probe`` (bool, default True): skip (or refuse) instances whose ports are in use now
    """

    FIELDS = ("service", "instance_id", "image", "command", "environment", "volume_path", "probe")

    service: str
    instance_id: Optional[int] = None
    image: Optional[str] = None
    command: Union[str, List[str], None] = None
    environment: Dict[str, str] = field(default_factory=dict)
    volume_path: Optional[str] = DEFAULT_VOLUME_PATH
    probe: bool = True

    @classmethod
    def from_params(cls, params: Any, service: Optional[str] = None) -> "StartRequest":
        """Checks ``params``; ``service`` is the activity's own (``start_kafka_activity``'s), which ``params`` may not name."""
        params = _checked(params, cls.FIELDS if service is None else cls.FIELDS[1:])
        name = service or _typed(params, "service", (str,), "a service name")
        if name is None:
            raise invalid("params need 'service': the service to start, as the registry names it")
        command = params.get("command")
        if command is not None and not isinstance(command, str) and not (
            isinstance(command, list) and all(isinstance(part, str) for part in command)
        ):
            raise invalid(f"params['command'] must be a str or a list of str, not {command!r}")
        environment = params.get("environment") or {}
        if not isinstance(environment, Mapping) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in environment.items()
        ):
            raise invalid("params['environment'] must be a dict of str to str")
        defaults = SERVICE_DEFAULTS.get(name, ServiceDefaults())
        volume_path = (_typed(params, "volume_path", (str,), "a path or None")
                       if "volume_path" in params else defaults.volume_path)
        probe = _typed(params, "probe", (bool,), "True or False")
        return cls(name, _typed(params, "instance_id", (int,), "an int or None"),
                   _typed(params, "image", (str,), "an image name"), command, dict(environment),
                   volume_path, True if probe is None else probe)


@dataclass(frozen=True)
class StopRequest:
    """The ``params`` of a stop activity: ``service`` (str; set by ``stop_kafka_activity``),
    ``instance_id`` (int, required) and ``remove_volume`` (bool, default False)."""

    FIELDS = ("service", "instance_id", "remove_volume")

    service: str
    instance_id: int
    remove_volume: bool = False

    @classmethod
    def from_params(cls, params: Any, service: Optional[str] = None) -> "StopRequest":
        params = _checked(params, cls.FIELDS if service is None else cls.FIELDS[1:])
        name = service or _typed(params, "service", (str,), "a service name")
        if name is None:
            raise invalid("params need 'service': the service to stop, as the registry names it")
        instance = _typed(params, "instance_id", (int,), "an int")
        if instance is None:
            raise invalid("params need 'instance_id': the instance to stop")
        return cls(name, instance, bool(_typed(params, "remove_volume", (bool,), "True or False")))
