"""Shell completion: scripts for bash, zsh and fish, whose completion of service,
port and environment names asks the tool, which reads the registry in force."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import OK, REPO, clean_environment


def bash_complete(binary: Path, script: Path, words: list[str], cwd: Path) -> list[str]:
    """COMPREPLY of the generated bash function for the command line `words` (cursor at the end)."""
    program = r"""
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
prev=""; [ "$COMP_CWORD" -gt 0 ] && prev="${COMP_WORDS[COMP_CWORD-1]}"
_portmanager "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "$prev"
printf '%s\n' "${COMPREPLY[@]}"
"""
    out = subprocess.run(["bash", "-c", program, "bash", str(script), str(binary), *words], cwd=cwd,
                         env=clean_environment({"XDG_CONFIG_HOME": str(cwd)}), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture()
def bash_script(binary: Path, tmp_path: Path) -> Path:
    out = subprocess.run([str(binary), "--generate-completion-script", "bash"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    path = tmp_path / "portmanager.bash"
    path.write_text(out.stdout)
    return path


def shipped_services(run) -> list[str]:
    result = run("list", "--json")
    assert result.returncode == OK, result.stderr
    return [service["name"] for service in json.loads(result.stdout)["services"]]


def test_bash_completes_the_shipped_registrys_service_names(run, binary, bash_script):
    services = shipped_services(run)
    assert "kafka" in services and "mongo_express" in services
    for command in ("get", "names", "env", "compose", "run"):
        assert bash_complete(binary, bash_script, [command, ""], REPO / "docs") == services, command
    assert bash_complete(binary, bash_script, ["get", "mo"], REPO) == ["mongodb", "mongo_express"]
    assert bash_complete(binary, bash_script, ["summary", "kafka", ""], REPO) == services


def test_bash_completes_the_port_names_of_the_service(binary, bash_script):
    assert bash_complete(binary, bash_script, ["get", "kafka", "--port", ""], REPO) == ["broker_port", "controller_port"]
    assert bash_complete(binary, bash_script, ["get", "temporal", "-i", "1", "--port", "u"], REPO) == ["ui_port"]


def test_completion_reads_the_registry_named_on_the_line(binary, bash_script, registry_file, tmp_path):
    path = registry_file("alpha:\n  port: 5000\nbeta:\n  web_port: 6000\n_environments:\n  ci: 100\n")
    assert bash_complete(binary, bash_script, ["get", "--registry", str(path), ""], tmp_path) == ["alpha", "beta"]
    assert bash_complete(binary, bash_script, ["get", f"--registry={path}", "beta", "--port", ""], tmp_path) == ["web_port"]
    assert bash_complete(binary, bash_script, ["env", "--registry", str(path), "--env", ""], tmp_path) == ["ci"]
    # No registry anywhere: nothing to offer, and no error on the terminal.
    assert bash_complete(binary, bash_script, ["get", ""], tmp_path) == []


@pytest.mark.parametrize("shell, marker", [("zsh", "#compdef portmanager"), ("fish", "complete -c 'portmanager'")])
def test_zsh_and_fish_scripts_ask_the_tool_for_names(binary, shell, marker):
    out = subprocess.run([str(binary), "--generate-completion-script", shell], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert marker in out.stdout
    for callback in ("---completion get -- positional@0", "---completion get -- --port", "---completion get -- --env"):
        assert callback in out.stdout, callback
