"""End-to-end tests of the `portmanager` command-line tool.

Every test runs the built binary (build/bin/portmanager, or $PORTMANAGER_CLI)
in a subprocess and checks its standard output, standard error and exit code.
Build it first with `make cli` (or scripts/build.sh cli).
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "dynamicconfig" / "port_registry.yaml"

# Exit codes the tool promises.
OK, FINDINGS, USAGE = 0, 1, 2


def cli_path() -> Path:
    override = os.environ.get("PORTMANAGER_CLI")
    return Path(override) if override else REPO / "build" / "bin" / "portmanager"


@pytest.fixture(scope="session")
def binary() -> Path:
    path = cli_path()
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(f"portmanager binary not found at {path}; run `make cli` or set PORTMANAGER_CLI")
    return path


def clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any PORTMANAGER_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTMANAGER_")}
    env["SWIFT_BACKTRACE"] = "enable=no"
    env.update(extra or {})
    return env


Run = Callable[..., subprocess.CompletedProcess]


@pytest.fixture()
def run(binary: Path) -> Run:
    """run(*args, cwd=REPO, env=None) -> CompletedProcess with text stdout/stderr.

    Runs from the repository root by default, so the shipped registry is found
    at ./dynamicconfig/port_registry.yaml; PORTMANAGER_* variables of the
    calling shell are removed, and `env` adds variables.
    """

    def _run(*args: str, cwd: Path | str = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(binary), *args],
            cwd=str(cwd),
            env=clean_environment(env),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return _run


@pytest.fixture()
def registry_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """registry_file(text, name="registry.yaml") writes a registry into tmp_path."""

    def _write(text: str, name: str = "registry.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


SCHEMAS = REPO / "docs" / "schema"


def schema_validator(command: str):
    """A validator of `portmanager COMMAND --json` output against docs/schema/COMMAND.schema.json.

    The schema files refer to each other by relative URI (common.schema.json#/$defs/...),
    resolved here as an editor resolves them: against the file's own location.
    """
    import json

    import jsonschema
    from referencing import Registry, Resource

    def retrieve(uri: str) -> Resource:
        assert uri.startswith(SCHEMAS.as_uri() + "/"), uri
        return Resource.from_contents(json.loads(Path(uri[len("file://"):]).read_text(encoding="utf-8")))

    uri = (SCHEMAS / f"{command}.schema.json").as_uri()
    schema = retrieve(uri).contents
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator({"$ref": uri}, registry=Registry(retrieve=retrieve))


def assert_matches_schema(command: str, document: object) -> None:
    """Fails with every violation when `document` does not match the schema of `command --json`."""
    errors = sorted(schema_validator(command).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
