"""Shared fixtures. The tests import the package from this checkout (bindings/python/src)
unless PORTMANAGER_TEST_INSTALLED=1 asks for the installed one."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

TESTS = Path(__file__).resolve().parent
BINDING = TESTS.parent
REPO = BINDING.parent.parent
REGISTRY = REPO / "dynamicconfig" / "port_registry.yaml"
HEADER = REPO / "include" / "portmanager.h"

if os.environ.get("PORTMANAGER_TEST_INSTALLED") != "1":
    sys.path.insert(0, str(BINDING / "src"))

import portmanager  # noqa: E402


@pytest.fixture()
def pm() -> Iterator[portmanager.PortManager]:
    """A manager over the shipped registry, closed after the test."""
    with portmanager.PortManager(REGISTRY) as manager:
        yield manager


@pytest.fixture()
def restore_logging() -> Iterator[None]:
    """Puts the portmanager logger and the library threshold back as they were."""
    logger = portmanager._log.logger
    level, disabled = logger.level, logger.disabled
    yield
    logger.setLevel(level)
    logger.disabled = disabled
    portmanager.install_log_bridge()
