"""Details a first user met (issue 16): the empty command line, --ttl out of
range, the force hint, plurals, and status without free rows."""
from __future__ import annotations

import pytest

from conftest import OK, USAGE, Run


def test_no_arguments_prints_the_help_and_exits_2(run: Run) -> None:
    result = run()
    assert result.returncode == USAGE
    assert result.stdout == ""
    assert result.stderr.startswith("OVERVIEW: Conflict-free host ports") and "SUBCOMMANDS:" in result.stderr


@pytest.mark.parametrize("command", [["reserve", "kafka"], ["renew", "kafka", "1"]])
@pytest.mark.parametrize("ttl", ["-5", "0", "3153600001"])
def test_ttl_out_of_range_names_the_option_and_the_range(run: Run, tmp_path, command: list, ttl: str) -> None:
    result = run(*command, "--ttl", ttl, "--state-dir", str(tmp_path / "state"))
    assert result.returncode == USAGE, result.stderr
    assert f"--ttl takes a whole number of seconds from 1 to 3153600000 (100 years), not {ttl}." in result.stderr
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())


def test_release_of_another_owners_reservation_names_force(run: Run, tmp_path) -> None:
    state = ["--state-dir", str(tmp_path / "state")]
    assert run("reserve", "kafka", "--no-probe", "--owner", "a", *state).returncode == OK
    refused = run("release", "kafka", "0", "--owner", "b", *state)
    assert refused.returncode == 3 and "or force it (--force in the CLI)" in refused.stderr, refused.stderr
    assert run("release", "kafka", "0", "--force", *state).returncode == OK


def test_counts_are_pluralised(run: Run, registry_file) -> None:
    one = registry_file("svc:\n  port: 42500\n  max_instances: 1\n", "one.yaml")
    checked = run("check", "--registry", str(one))
    assert checked.returncode == OK, checked.stderr
    assert "1 service, 1 named port, 1 instance, 0 environments;" in checked.stdout
    summary = run("summary", "--registry", str(one))
    assert "1 service, 1 instance;" in summary.stdout
    assert "1 services" not in checked.stdout + summary.stdout and "1 instances" not in checked.stdout + summary.stdout


def test_status_without_anything_reserved_says_so(run: Run, tmp_path) -> None:
    result = run("status", "kafka", "--state-dir", str(tmp_path / "state"))
    assert result.returncode == OK
    # Nothing of the shipped registry's kafka is reserved here; its ports may be in use on the host.
    states = [line.split()[2] for line in result.stdout.splitlines()[1:]] if result.stdout.startswith("SERVICE") else []
    assert "free" not in states
    if not states:
        assert result.stdout == "No instance is running, stopped, reserved or in use (--all lists the free ones).\n"
    everything = run("status", "kafka", "--all", "--state-dir", str(tmp_path / "state"))
    assert len(everything.stdout.splitlines()) == 1 + 10
