"""A small orchestrator: Temporal activities that start and stop service instances
as Docker containers, with ports, names and reservations from portmanager, safe
against crashes and retries.

Activities (synchronous: run the worker with an ``activity_executor``, as
:mod:`portmanager.examples.worker` does):

* ``start_service_activity(params)``: starts one instance of ``params["service"]``;
* ``start_kafka_activity(params)``: the original spec's activity, the same for Kafka
  (with the KRaft settings of :func:`kafka_environment`);
* ``stop_service_activity(params)`` / ``stop_kafka_activity(params)``: removes the
  instance's container and releases its reservation.

How a start survives crashes and retries (the owner is the workflow's ID,
:func:`portmanager.temporal.owner_from_activity`, the same for every attempt):

1. A container this workflow started already (it carries :data:`WORKFLOW_LABEL`
   with the workflow ID and the instance's ``io.portmanager.*`` labels) is
   resumed, never started twice: the reservation is handed to it (``pm.bind``),
   or, when it has none, reserved for it (``adopt=True``); a created or stopped
   container is started. This is the retry of an attempt that died after
   ``docker run``.
2. Without ``instance_id``, an instance this workflow reserved already (by its
   workflow ID, and not yet handed to a container) is taken again instead of
   a new one: the retry of an attempt that died between reserve and run.
3. Otherwise the instance is reserved (``pm.reserve(..., owner=WORKFLOW_ID)``),
   the container run (``containers.run(image, detach=True,
   **pm.docker_run_kwargs(...))``) and the reservation bound to it: from then
   on it lasts while the container exists, whatever happens to the workflow.

If ``docker run`` fails, the container it may have created is removed and the
reservation released only when this attempt made it (``fresh``): one that is
not fresh was this workflow's before, from an attempt whose container may be
running. The failures no retry mends are raised as non-retryable
``ApplicationError``: the library's (``ReservedError``, an unknown service, a
bad registry, ...; :func:`portmanager.temporal.non_retryable_errors`), bad
``params`` (``type="InvalidParams"``), a missing image (``"ImageNotFound"``),
and a container of the instance's name that another workflow or someone else
started (``"ContainerConflict"``). Other failures (the engine unreachable, a
host port taken) stay retryable.

A workflow holds at most one auto-picked instance per service: a second start
without ``instance_id`` in the same workflow resumes the first. Start more with
explicit ``instance_id``\\ s, or from a workflow each.

Needs ``temporalio`` and the Docker SDK for Python (``pip install
'portmanager[examples]'``); ``import portmanager`` imports neither.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import docker  # type: ignore[import-untyped]
import docker.errors  # type: ignore[import-untyped]
from temporalio import activity
from temporalio.exceptions import ApplicationError

from .. import Container, NotOwnerError, PortManager, get_port_manager
from ..temporal import non_retryable_errors, owner_from_activity
from .params import (
    DEFAULT_VOLUME_PATH,
    SERVICE_DEFAULTS,
    ServiceDefaults,
    StartRequest,
    StopRequest,
    invalid,
    kafka_environment,
)

__all__ = [
    "WORKFLOW_LABEL",
    "DEFAULT_VOLUME_PATH",
    "SERVICE_DEFAULTS",
    "ServiceDefaults",
    "StartRequest",
    "StopRequest",
    "ServiceOrchestrator",
    "kafka_environment",
    "default_orchestrator",
    "start_service_activity",
    "stop_service_activity",
    "start_kafka_activity",
    "stop_kafka_activity",
]

#: The label that ties a container to the workflow that started it (its value is the
#: workflow ID): how a retried start finds the container a crashed attempt started.
WORKFLOW_LABEL = "io.portmanager.example.workflow-id"


class ServiceOrchestrator:
    """The activities over one manager, one Docker client and one reservation store.

    Args:
        manager: the registry; ``None`` for :func:`portmanager.get_port_manager` (``$PORTMANAGER_REGISTRY``, ...).
        docker_client: a Docker SDK client; ``None`` for ``docker.from_env()``, made at first use.
        state_dir: the reservation store; ``None`` for the default (``$PORTMANAGER_STATE_DIR``, ...).
        stop_timeout: seconds a stopping container gets before it is killed.
        labels: more labels for every container it starts (a team, a test session).

    Register :meth:`activities` with a worker that has an ``activity_executor``.
    """

    def __init__(
        self, manager: Optional[PortManager] = None, docker_client: Any = None, *,
        state_dir: Optional[str] = None, stop_timeout: int = 10, labels: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._manager = manager
        self._docker = docker_client
        self._docker_lock = threading.Lock()
        self.state_dir = state_dir
        self.stop_timeout = stop_timeout
        self.labels = dict(labels or {})

    @property
    def manager(self) -> PortManager:
        return self._manager if self._manager is not None else get_port_manager()

    @property
    def docker(self) -> Any:
        """The Docker SDK client (``docker.from_env()`` unless one was given)."""
        with self._docker_lock:
            if self._docker is None:
                self._docker = docker.from_env()
            return self._docker

    def activities(self) -> List[Callable[..., Any]]:
        """The four activities, bound to this orchestrator, for ``Worker(activities=...)``."""
        return [self.start_service_activity, self.stop_service_activity,
                self.start_kafka_activity, self.stop_kafka_activity]

    @activity.defn(name="start_service_activity")
    def start_service_activity(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """Starts one instance of ``params["service"]`` (:class:`StartRequest`); returns :meth:`start`'s allocation."""
        return self.start(StartRequest.from_params(params))

    @activity.defn(name="start_kafka_activity")
    def start_kafka_activity(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """The original spec's activity: ``{"instance_id": N}`` or ``{}`` for the lowest free Kafka.

        The allocation also has the original spec's ``broker_port``, ``controller_port`` and ``bootstrap``."""
        result = self.start(StartRequest.from_params(params, service="kafka"))
        result["broker_port"], result["controller_port"] = result["ports"]["broker_port"], result["ports"]["controller_port"]
        result["bootstrap"] = f"localhost:{result['broker_port']}"
        return result

    @activity.defn(name="stop_service_activity")
    def stop_service_activity(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """Removes an instance's container and releases its reservation (:class:`StopRequest`, :meth:`stop`)."""
        return self.stop(StopRequest.from_params(params))

    @activity.defn(name="stop_kafka_activity")
    def stop_kafka_activity(self, params: Dict[str, Any]) -> Dict[str, Any]:
        """:meth:`stop_service_activity` for Kafka: ``{"instance_id": N}``."""
        return self.stop(StopRequest.from_params(params, service="kafka"))

    # ------------------------------------------------------------------ start

    def start(self, request: StartRequest) -> Dict[str, Any]:
        """Starts (or, on a retry, resumes) the instance; returns its allocation:
        ``service``, ``instance_id``, ``environment``, ``container_name``, ``container_id``,
        ``volume_name`` (``None`` without a volume), ``ports`` and ``container_ports``
        (port name -> first port), ``owner`` (the container the reservation is bound
        to), ``workflow_id``, ``fresh`` (this attempt reserved the instance) and
        ``started`` (this attempt ran the container; False when it resumed one)."""
        owner = owner_from_activity()
        with non_retryable_errors():
            client = self.docker
            found = self._own_container(client, owner, request.service, request.instance_id)
            if found is not None:
                return self._resume(request, found[0], found[1], owner)
            instance_id = request.instance_id
            if instance_id is None:
                instance_id = self._reserved_by(owner, request.service)
            reservation = self.manager.reserve(request.service, instance_id, owner=owner, probe=request.probe,
                                               state_dir=self.state_dir)
            activity.logger.info("start_service service=%s instance=%d owner=%s fresh=%s", request.service,
                                 reservation.instance, owner, reservation.fresh)
            try:
                container = self._run(client, request, reservation.instance, owner)
            except BaseException as error:
                self._remove_created(client, reservation.container_name, owner)
                if reservation.fresh:
                    reservation.release()
                if isinstance(error, docker.errors.APIError) and error.status_code == 409:
                    found = self._own_container(client, owner, request.service, reservation.instance)
                    if found is not None:  # another attempt of this workflow started it meanwhile
                        return self._resume(request, found[0], found[1], owner)
                    raise ApplicationError(
                        f"container {reservation.container_name!r} exists and was not started by workflow "
                        f"{owner!r}: {error.explanation or error}", type="ContainerConflict", non_retryable=True,
                    ) from error
                if isinstance(error, docker.errors.ImageNotFound):
                    raise ApplicationError(str(error), type="ImageNotFound", non_retryable=True) from error
                raise
            reservation.bind(container.name)
            return self._result(request, reservation.instance, container, owner, fresh=reservation.fresh, started=True)

    def _run(self, client: Any, request: StartRequest, instance: int, owner: str) -> Any:
        pm = self.manager
        image = request.image or pm.instance(request.service, instance).image
        if not image:
            raise invalid(f"service {request.service!r} has no image: in the registry {pm.source}; "
                           "give params['image']")
        kwargs = pm.docker_run_kwargs(request.service, instance, volume_path=request.volume_path)
        kwargs["labels"] = {**self.labels, **kwargs["labels"], WORKFLOW_LABEL: owner}
        defaults = SERVICE_DEFAULTS.get(request.service, ServiceDefaults())
        environment = {**(defaults.environment(pm, instance) if defaults.environment else {}), **request.environment}
        return client.containers.run(image, self._command(request, instance, kwargs["name"]), detach=True,
                                     environment=environment or None, **kwargs)

    def _command(self, request: StartRequest, instance: int, name: str) -> Union[str, List[str], None]:
        if request.command is None:
            return None
        values: Dict[str, Any] = {port.port_type: port.container_port
                                  for port in self.manager.instance(request.service, instance).ports}
        values.update(instance=instance, container_name=name)
        parts = [request.command] if isinstance(request.command, str) else request.command
        try:
            formatted = [part.format_map(values) for part in parts]
        except KeyError as error:
            raise invalid(f"params['command'] names {{{error.args[0]}}}, which is not one of "
                           f"{', '.join('{' + key + '}' for key in values)}") from None
        except (ValueError, IndexError, AttributeError) as error:
            raise invalid(f"params['command'] {request.command!r}: {error} (write {{{{ and }}}} for braces)") from None
        return formatted[0] if isinstance(request.command, str) else formatted

    def _own_container(self, client: Any, owner: str, service: str, instance_id: Optional[int]) -> Optional[Tuple[Any, int]]:
        """A container of this workflow for the service (and instance), with its instance."""
        for container in client.containers.list(all=True, filters={"label": f"{WORKFLOW_LABEL}={owner}"},
                                                ignore_removed=True):
            instance = self._instance_of(service, container.labels or {})
            if instance is not None and (instance_id is None or instance == instance_id):
                return container, instance
        return None

    def _instance_of(self, service: str, labels: Mapping[str, str]) -> Optional[int]:
        """The instance (of the manager's environment) whose io.portmanager.* labels `labels` carries."""
        pm = self.manager
        for instance in range(pm.service_info(service).max_instances):
            if all(labels.get(key) == value for key, value in pm.instance(service, instance).labels.items()):
                return instance
        return None

    def _reserved_by(self, owner: str, service: str) -> Optional[int]:
        """The lowest instance of the service the owner reserved by name (not yet bound to a container)."""
        environment = self.manager.environment.name or ""
        held = [row.instance for row in self.manager.reservations(service, state_dir=self.state_dir)
                if row.owner_kind == "name" and row.owner == owner and row.environment == environment]
        return min(held) if held else None

    def _resume(self, request: StartRequest, container: Any, instance: int, owner: str) -> Dict[str, Any]:
        """A container this workflow started: the reservation bound to it (or made for it), and running."""
        pm = self.manager
        try:
            pm.bind(request.service, instance, container.name, owner=owner, state_dir=self.state_dir)
        except NotOwnerError:  # not this workflow's reservation: none, or the container's already (checked next)
            pm.reserve(request.service, instance, owner=Container(container.name), probe=False, adopt=True,
                       state_dir=self.state_dir)
        if container.status != "running":
            container.start()
        activity.logger.info("start_service service=%s instance=%d owner=%s resumed container=%s",
                             request.service, instance, owner, container.name)
        return self._result(request, instance, container, owner, fresh=False, started=False)

    def _remove_created(self, client: Any, name: str, owner: str) -> None:
        """Removes the container a failed ``docker run`` of this workflow left created, not started."""
        try:
            container = client.containers.get(name)
            if (container.labels or {}).get(WORKFLOW_LABEL) == owner and container.status == "created":
                container.remove(force=True)
        except docker.errors.DockerException:
            pass  # gone, or the engine is away: the retry finds and resumes it

    def _result(self, request: StartRequest, instance: int, container: Any, owner: str, *, fresh: bool,
                started: bool) -> Dict[str, Any]:
        described = self.manager.instance(request.service, instance)
        return {
            "service": request.service,
            "instance_id": instance,
            "environment": described.environment,
            "container_name": container.name,
            "container_id": container.id,
            "volume_name": described.volume_name if request.volume_path is not None else None,
            "ports": {port.port_type: port.host_port for port in described.ports},
            "container_ports": {port.port_type: port.container_port for port in described.ports},
            "owner": container.name,
            "workflow_id": owner,
            "fresh": fresh,
            "started": started,
        }

    # ------------------------------------------------------------------- stop

    def stop(self, request: StopRequest) -> Dict[str, Any]:
        """Removes the instance's container (and with ``remove_volume`` its volume) and
        releases its reservation, held by the container or by this workflow; another
        holder is refused (non-retryable ``NotOwnerError``) before anything is removed.
        Returns ``service``, ``instance_id``, ``container_name``, ``removed`` (False: there
        was no container) and ``released`` (False: it was not reserved). Stopping twice is harmless."""
        owner = owner_from_activity()
        with non_retryable_errors():
            pm, client = self.manager, self.docker
            name = pm.container_name(request.service, request.instance_id)
            holder = self._holder(request, name, owner)
            removed = False
            try:
                container = client.containers.get(name)
                container.stop(timeout=self.stop_timeout)
                container.remove()
                removed = True
            except docker.errors.NotFound:
                pass
            if request.remove_volume:
                try:
                    client.volumes.get(pm.volume_name(request.service, request.instance_id)).remove()
                except docker.errors.NotFound:
                    pass
            if holder is not None:  # the library may have reaped a container's reservation with the container
                pm.release(request.service, request.instance_id, owner=holder, state_dir=self.state_dir)
            released = holder is not None
            activity.logger.info("stop_service service=%s instance=%d removed=%s released=%s", request.service,
                                 request.instance_id, removed, released)
            return {"service": request.service, "instance_id": request.instance_id, "container_name": name,
                    "removed": removed, "released": released}

    def _holder(self, request: StopRequest, name: str, owner: str) -> Union[Container, str, None]:
        """Who holds the instance (its container or this workflow), None when nobody; NotOwnerError for anyone else."""
        environment = self.manager.environment.name or ""
        for row in self.manager.reservations(request.service, state_dir=self.state_dir):
            if row.instance != request.instance_id or row.environment != environment:
                continue
            if row.owner_kind == "container" and row.owner == name:
                return Container(name)
            if row.owner_kind == "name" and row.owner == owner:
                return owner
            raise NotOwnerError(NotOwnerError.STATUS,
                                f"instance {request.instance_id} of {request.service!r} is reserved by "
                                f"{row.owner_kind} {row.owner!r}, not by container {name!r} nor workflow {owner!r}")
        return None


_default: Optional[ServiceOrchestrator] = None
_default_lock = threading.Lock()


def default_orchestrator() -> ServiceOrchestrator:
    """The process-wide orchestrator of the module-level activities: :func:`portmanager.get_port_manager`,
    ``docker.from_env()`` and the default reservation store."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ServiceOrchestrator()
        return _default


@activity.defn(name="start_service_activity")
def start_service_activity(params: Dict[str, Any]) -> Dict[str, Any]:
    """:meth:`ServiceOrchestrator.start_service_activity` of :func:`default_orchestrator`."""
    return default_orchestrator().start_service_activity(params)


@activity.defn(name="stop_service_activity")
def stop_service_activity(params: Dict[str, Any]) -> Dict[str, Any]:
    """:meth:`ServiceOrchestrator.stop_service_activity` of :func:`default_orchestrator`."""
    return default_orchestrator().stop_service_activity(params)


@activity.defn(name="start_kafka_activity")
def start_kafka_activity(params: Dict[str, Any]) -> Dict[str, Any]:
    """The original spec's activity (:meth:`ServiceOrchestrator.start_kafka_activity`) of :func:`default_orchestrator`."""
    return default_orchestrator().start_kafka_activity(params)


@activity.defn(name="stop_kafka_activity")
def stop_kafka_activity(params: Dict[str, Any]) -> Dict[str, Any]:
    """:meth:`ServiceOrchestrator.stop_kafka_activity` of :func:`default_orchestrator`."""
    return default_orchestrator().stop_kafka_activity(params)
