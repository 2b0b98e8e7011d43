"""Examples of the original spec's usage: ``kafka_activity`` (needs ``temporalio``; ``pip install portmanager[temporal]``)."""
