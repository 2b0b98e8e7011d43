"""The shared conformance vectors (Tests/conformance/vectors.txt) through the Python binding.

The C/libffi suite (Tests/c) and the Swift tests (ConformanceTests.swift) run the
same file; all three must get the answers it gives. The format is described at
the top of the file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

import pytest

from conftest import REPO

import portmanager

VECTORS = REPO / "Tests" / "conformance" / "vectors.txt"


class Vector(NamedTuple):
    location: str
    words: List[str]
    expected: str
    yaml: Optional[str]
    malformed: Optional[str]


def load_vectors(path: Path) -> List[Vector]:
    registries: Dict[str, str] = {}
    current: Optional[str] = None
    vectors: List[Vector] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        line = raw[:-1] if raw.endswith("\r") else raw
        location = f"vectors.txt:{number}"
        if line.startswith("|"):
            if current is None:
                vectors.append(Vector(location, [line], "", None, "a YAML line outside a registry"))
            else:
                registries[current] += (line[2:] if line.startswith("| ") else line[1:]) + "\n"
            continue
        current = None
        if not line or line.startswith("#"):
            continue
        if line.startswith("registry "):
            current = line[len("registry "):]
            registries[current] = ""
            continue
        if " => " not in line:
            vectors.append(Vector(location, [line], "", None, "expected 'COMMAND ARG... => EXPECTED'"))
            continue
        query, expected = line.split(" => ", 1)
        words = query.split()
        yaml = registries.get(words[1]) if len(words) >= 2 else None
        vectors.append(Vector(location, words, expected, yaml, None if yaml is not None else "unknown registry"))
    return vectors


VECTOR_LIST = load_vectors(VECTORS)

Outcome = Union[Tuple[str, str], Tuple[str, str, str]]


def run(vector: Vector) -> Outcome:
    """("answer", text) or ("error", status name, message)."""
    w = vector.words
    try:
        with portmanager.PortManager.from_yaml(vector.yaml or "", source=w[1]) as pm:
            command, arity = w[0], len(w)
            if command == "open" and arity == 2:
                return ("answer", "ok")
            if command == "services" and arity == 2:
                return ("answer", " ".join(pm.list_services()))
            if command == "get_port" and arity == 5:
                return ("answer", str(pm.get_port(w[2], int(w[3]), w[4])))
            if command == "get_ports" and arity == 4:
                return ("answer", " ".join(str(p) for p in pm.get_ports(w[2], int(w[3])).values()))
            if command == "container_name" and arity == 4:
                return ("answer", pm.container_name(w[2], int(w[3])))
            if command == "volume_name" and arity == 4:
                return ("answer", pm.volume_name(w[2], int(w[3])))
            if command == "allocation_line" and arity == 5:
                return ("answer", pm.allocation_line(w[2], int(w[3]), w[4]))
            if command == "reserve" and arity >= 5 and (arity - 3) % 2 == 0:
                with tempfile.TemporaryDirectory() as folder:
                    answers = []
                    for i in range(3, arity - 1, 2):
                        instance = None if w[i] == "any" else int(w[i])
                        reservation = pm.reserve(w[2], instance, owner=w[i + 1], probe=False,
                                                 state_dir=Path(folder) / "state")
                        answers.append(str(reservation.instance))
                    return ("answer", " ".join(answers))
            return ("error", "UNKNOWN_QUERY", f"unknown query {command!r} with {arity - 1} arguments")
    except portmanager.PortManagerError as error:
        return ("error", portmanager.STATUS_NAMES.get(error.status, "PM_ERR_UNKNOWN_STATUS"), str(error))


def test_the_file_holds_vectors() -> None:
    assert len(VECTOR_LIST) >= 50
    assert any(v.words[0] == "open" and v.expected.startswith("error ") for v in VECTOR_LIST)


@pytest.mark.parametrize("vector", VECTOR_LIST, ids=[v.location for v in VECTOR_LIST])
def test_vector(vector: Vector) -> None:
    assert vector.malformed is None, f"{vector.location}: {vector.malformed}"
    outcome = run(vector)
    if vector.expected.startswith("error "):
        status, _, text = vector.expected[len("error "):].partition(":")
        text = text.lstrip(" ")
        assert text, f"{vector.location}: the vector gives no message text"
        assert status in portmanager.STATUS_NAMES.values(), f"{vector.location}: {status!r} is not a pm_status name"
        assert outcome[0] == "error", f"{vector.location}: expected {status}, got {outcome}"
        assert outcome[1] == status, f"{vector.location}: {outcome}"
        assert text in outcome[2], f"{vector.location}: {outcome[2]!r} does not contain {text!r}"
    else:
        assert outcome == ("answer", vector.expected), vector.location
