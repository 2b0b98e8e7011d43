"""A small orchestrator on Temporal and Docker, the original spec's usage made crash-proof
(needs ``temporalio`` and the Docker SDK: ``pip install 'portmanager[examples]'``):

* :mod:`~portmanager.examples.orchestrator`: the activities (``start_service_activity``,
  ``stop_service_activity``, the original spec's ``start_kafka_activity``) and how a start
  survives crashes and retries;
* :mod:`~portmanager.examples.params`: the activities' ``params``, checked, and per-service defaults;
* :mod:`~portmanager.examples.workflows`: ``ServiceWorkflow``, ``KafkaWorkflow``,
  ``StopServiceWorkflow``;
* :mod:`~portmanager.examples.worker`: ``python -m portmanager.examples.worker``.
"""
