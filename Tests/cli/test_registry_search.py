"""Where the CLI finds its registry without --registry: $PORTMANAGER_REGISTRY, then
dynamicconfig/port_registry.yaml here or in the nearest parent, then
$XDG_CONFIG_HOME (~/.config), /etc/portmanager, and PREFIX/share/portmanager of
the installation the binary runs from."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import OK, USAGE, cli_path

PROJECT = "dynamicconfig/port_registry.yaml"


def write_registry(path: Path, service: str, port: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{service}:\n  port: {port}\n")
    return path


def no_config(tmp_path: Path) -> dict[str, str]:
    """An environment whose user configuration directory is empty."""
    (tmp_path / "xdg-empty").mkdir(exist_ok=True)
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg-empty"), "HOME": str(tmp_path / "home-empty")}


def test_from_a_subdirectory_the_nearest_parent_registry_is_used(run, tmp_path):
    write_registry(tmp_path / "project" / PROJECT, "outer", 5000)
    write_registry(tmp_path / "project" / "app" / PROJECT, "inner", 6000)
    deep = tmp_path / "project" / "app" / "src" / "deep"
    deep.mkdir(parents=True)
    result = run("get", "inner", "-i", "1", "-p", "port", cwd=deep, env=no_config(tmp_path))
    assert result.returncode == OK, result.stderr
    assert result.stdout == "6100\n"
    result = run("get", "outer", cwd=tmp_path / "project" / "app", env=no_config(tmp_path))
    assert result.returncode == USAGE and "unknown service 'outer'" in result.stderr, result.stderr


def test_from_an_unrelated_directory_the_xdg_registry_is_used(run, tmp_path):
    write_registry(tmp_path / "config" / "portmanager" / "port_registry.yaml", "fromxdg", 7000)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run("get", "fromxdg", "-p", "port", cwd=elsewhere, env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == OK, result.stderr
    assert result.stdout == "7000\n"
    # Without XDG_CONFIG_HOME (or with a relative one, which the XDG spec says to ignore): ~/.config.
    write_registry(tmp_path / "home" / ".config" / "portmanager" / "port_registry.yaml", "fromhome", 7100)
    for xdg in ("", "relative/dir"):
        result = run("get", "fromhome", "-p", "port", cwd=elsewhere, env={"XDG_CONFIG_HOME": xdg, "HOME": str(tmp_path / "home")})
        assert result.returncode == OK, result.stderr
        assert result.stdout == "7100\n"


def test_a_project_registry_wins_over_the_user_configuration(run, tmp_path):
    write_registry(tmp_path / "config" / "portmanager" / "port_registry.yaml", "fromxdg", 7000)
    write_registry(tmp_path / "p" / PROJECT, "fromproject", 7200)
    result = run("list", cwd=tmp_path / "p", env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == OK, result.stderr
    assert "fromproject" in result.stdout and "fromxdg" not in result.stdout


def test_the_installed_registry_under_prefix_share_is_the_last_resort(tmp_path, binary):
    import subprocess

    from conftest import clean_environment

    prefix = tmp_path / "prefix"
    (prefix / "bin").mkdir(parents=True)
    shutil.copy(binary, prefix / "bin" / "portmanager")
    write_registry(prefix / "share" / "portmanager" / "port_registry.yaml", "installed", 8100)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for program in (str(prefix / "bin" / "portmanager"), "portmanager"):  # by path, and found through PATH
        env = clean_environment(dict(no_config(tmp_path), PATH=f"{prefix / 'bin'}:{os.environ['PATH']}"))
        result = subprocess.run([program, "get", "installed", "-p", "port"], cwd=elsewhere, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == OK, result.stderr
        assert result.stdout == "8100\n"


def test_untrusted_registries_are_skipped_and_named(run, tmp_path):
    planted = write_registry(tmp_path / "shared" / PROJECT, "planted", 5000)
    work = tmp_path / "shared" / "work"
    work.mkdir()
    planted.chmod(0o666)
    result = run("list", cwd=work, env=no_config(tmp_path))
    assert result.returncode == USAGE
    assert f"{planted} (skipped: writable by every user)" in result.stderr, result.stderr
    if os.geteuid() == 0:
        planted.chmod(0o644)
        os.chown(planted, 65534, 65534)
        result = run("list", cwd=work, env=no_config(tmp_path))
        assert result.returncode == USAGE
        assert f"{planted} (skipped: owned by uid 65534, neither you nor root)" in result.stderr, result.stderr


def test_not_found_lists_every_place_tried(run, tmp_path):
    here = tmp_path / "a" / "b"
    here.mkdir(parents=True)
    result = run("summary", cwd=here, env=no_config(tmp_path))
    assert result.returncode == USAGE and result.stdout == ""
    places = ["$PORTMANAGER_REGISTRY (not set)", f"./{PROJECT} (no such file)"]
    directory = here.parent
    while True:
        places.append(f"{directory / PROJECT if str(directory) != '/' else '/' + PROJECT} (no such file)")
        if str(directory) == "/":
            break
        directory = directory.parent
    places.append(f"{tmp_path / 'xdg-empty' / 'portmanager' / 'port_registry.yaml'} (no such file)")
    places.append("/etc/portmanager/port_registry.yaml (no such file)")
    prefix = cli_path().resolve().parent.parent
    places.append(f"{prefix / 'share' / 'portmanager' / 'port_registry.yaml'} (no such file)")
    assert result.stderr == "portmanager: error: no port registry found; looked in: " + ", ".join(places) + "\n"


def test_search_keeps_non_utf8_directory_names(run, tmp_path):
    # The working directory, its parents and XDG_CONFIG_HOME are bytes: a directory
    # whose name is not UTF-8 must be searched as it is, not as U+FFFD-replaced text.
    latin1 = Path(os.fsdecode(bytes(tmp_path) + b"/proj-\xff\xfe"))
    write_registry(latin1 / PROJECT, "parentlatin", 5300)
    deep = latin1 / "src"
    deep.mkdir()
    result = run("get", "parentlatin", "-p", "port", cwd=deep, env=no_config(tmp_path))
    assert result.returncode == OK, result.stderr
    assert result.stdout == "5300\n"

    config = Path(os.fsdecode(bytes(tmp_path) + b"/cfg-\xe9"))
    write_registry(config / "portmanager" / "port_registry.yaml", "xdglatin", 5400)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run("get", "xdglatin", "-p", "port", cwd=elsewhere, env={"XDG_CONFIG_HOME": str(config)})
    assert result.returncode == OK, result.stderr
    assert result.stdout == "5400\n"

    # Not found: the place is named escaped, byte for byte.
    result = run("list", cwd=elsewhere, env={"XDG_CONFIG_HOME": os.fsdecode(bytes(tmp_path) + b"/none-\xff")})
    assert result.returncode == USAGE
    assert "/none-\\xff/portmanager/port_registry.yaml (no such file)" in result.stderr, result.stderr
