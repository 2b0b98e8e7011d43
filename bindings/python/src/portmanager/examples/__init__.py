"""Examples of the seed's usage: ``kafka_activity`` (needs ``temporalio``; ``pip install portmanager[temporal]``)."""
