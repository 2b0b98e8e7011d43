"""The binding against the contract: every header function declared, matching types, the loader."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

import portmanager
from portmanager import _lib
from conftest import BINDING, HEADER, REPO

SIG_TABLE = REPO / "include" / "portmanager.sig"


def header_declarations() -> Dict[str, Tuple[str, List[str]]]:
    """name -> (return type, [parameter types]) for every PM_API function of the header."""
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    found: Dict[str, Tuple[str, List[str]]] = {}
    for match in re.finditer(r"^PM_API\s+([^;(]*?)\b(pm_\w+)\s*\(([^)]*)\)\s*;", text, flags=re.M):
        returns, name, params = match.groups()
        types = []
        for param in params.split(","):
            param = " ".join(param.replace("*", " * ").split())
            if param in ("void", ""):
                continue
            types.append(re.sub(r"\s*\w+$", "", param))  # drop the parameter's name
        found[name] = (" ".join(returns.replace("*", " * ").split()), types)
    return found


C_TYPES: Dict[str, Any] = {
    "void": None,
    "pm_status": _lib.STATUS,
    "uint32_t": ctypes.c_uint32,
    "int32_t": ctypes.c_int32,
    "int64_t": ctypes.c_int64,
    "size_t": ctypes.c_size_t,
    "int": ctypes.c_int,
    "const char *": ctypes.c_char_p,
    "char *": ctypes.POINTER(ctypes.c_char),
    "pm_registry *": ctypes.c_void_p,
    "const pm_registry *": ctypes.c_void_p,
    "pm_registry * *": ctypes.POINTER(ctypes.c_void_p),
    "pm_analysis *": ctypes.c_void_p,
    "const pm_analysis *": ctypes.c_void_p,
    "pm_analysis * *": ctypes.POINTER(ctypes.c_void_p),
    "pm_error *": ctypes.c_void_p,
    "pm_probe_result *": ctypes.c_void_p,
    "const pm_probe_result *": ctypes.c_void_p,
    "pm_probe_result * *": ctypes.POINTER(ctypes.c_void_p),
    "uint16_t *": ctypes.POINTER(ctypes.c_uint16),
    "int32_t *": ctypes.POINTER(ctypes.c_int32),
    "size_t *": ctypes.POINTER(ctypes.c_size_t),
    "int *": ctypes.POINTER(ctypes.c_int),
    "void *": ctypes.c_void_p,
    "pm_log_fn": _lib.pm_log_fn,
}


def test_the_header_parser_finds_the_functions() -> None:
    declarations = header_declarations()
    assert len(declarations) >= 26
    assert declarations["pm_registry_environment"] == (
        "pm_status", ["const pm_registry *", "char *", "size_t", "size_t *", "int32_t *"])


def test_every_header_function_is_declared_with_its_types() -> None:
    declarations = header_declarations()
    assert sorted(declarations) == sorted(_lib.SIGNATURES), "header and binding declare different functions"
    for name, (returns, params) in declarations.items():
        restype, argtypes = _lib.SIGNATURES[name]
        for c_type in [returns, *params]:
            assert c_type in C_TYPES, f"{name}: no ctypes mapping for C type {c_type!r}; extend C_TYPES and SIGNATURES"
        assert restype is C_TYPES[returns], f"{name} returns {returns}"
        # A pm_status argument is a plain enum value (int) going in.
        expected = [_lib.pm_status if p == "pm_status" else C_TYPES[p] for p in params]
        assert list(argtypes) == expected, f"{name}({', '.join(params)})"


def test_the_signature_table_agrees() -> None:
    # ctypes.c_int32 is ctypes.c_int here: int, i32 and an enum argument are one ABI class.
    classes = {
        None: "void", _lib.STATUS: "status", ctypes.c_int32: "i32", ctypes.c_int64: "i64",
        ctypes.c_uint32: "u32", ctypes.c_size_t: "size", ctypes.c_char_p: "str", _lib.pm_log_fn: "fn",
    }
    same = {"int": "i32", "status": "i32"}
    table = {}
    for line in SIG_TABLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, returns, *params = line.split()
            table[name] = [returns] + [same.get(t, t) for t in params]
    assert sorted(table) == sorted(_lib.SIGNATURES)
    for name, (restype, argtypes) in _lib.SIGNATURES.items():
        assert [classes.get(t, "ptr") for t in (restype, *argtypes)] == table[name], name


def test_the_loaded_library_exports_every_declared_function() -> None:
    assert _lib.MISSING == []
    nm = subprocess.run(["nm", "-D", "--defined-only", str(_lib.library_path)], capture_output=True, text=True, check=True)
    exported = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    assert exported == set(_lib.SIGNATURES)


def test_status_functions_raise_and_others_return_values() -> None:
    assert _lib.STATUS_FUNCTIONS == {n for n, (r, _) in _lib.SIGNATURES.items() if r is _lib.STATUS}
    assert "pm_get_log_level" not in _lib.STATUS_FUNCTIONS
    assert _lib.lib.pm_get_log_level.errcheck is not _lib.lib.pm_get_port.errcheck


def test_the_library_is_self_contained() -> None:
    # No libswift* dependency: it loads on a machine without the Swift toolchain.
    readelf = subprocess.run(["readelf", "-d", str(Path(_lib.library_path).resolve())],
                             capture_output=True, text=True, check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf.stdout)
    assert needed, readelf.stdout
    assert [n for n in needed if "swift" in n.lower()] == []
    assert "Library soname: [libportmanager.so.1]" in readelf.stdout
    assert portmanager.abi_version() == _lib.ABI_VERSION == 1


def test_loader_order_and_override() -> None:
    package, checkout = "/pkg", "/repo"
    assert _lib.candidate_paths({}, package, checkout) == [
        ("shipped in the package", "/pkg/libportmanager.so.1"),
        ("checkout build folder", "/repo/build/lib/libportmanager.so"),
    ]
    assert _lib.candidate_paths({"PORTMANAGER_LIB": ""}, package, checkout)[0][1] == "/pkg/libportmanager.so.1"
    assert _lib.candidate_paths({"PORTMANAGER_LIB": "/x/lib.so"}, package, checkout) == [
        ("$PORTMANAGER_LIB", "/x/lib.so")]
    assert os.path.samefile(_lib._CHECKOUT_ROOT, BINDING.parent.parent)


def test_the_load_error_names_every_path_tried(tmp_path: Path) -> None:
    not_elf = tmp_path / "garbage.so"
    not_elf.write_text("not a library")
    wrong_abi = tmp_path / "wrong_abi.so"
    source = tmp_path / "wrong_abi.c"
    source.write_text("unsigned pm_abi_version(void) { return 2; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(wrong_abi), str(source)], check=True)
    other = tmp_path / "other.so"
    (tmp_path / "other.c").write_text("int unrelated(void) { return 0; }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(other), str(tmp_path / "other.c")], check=True)
    missing = tmp_path / "missing.so"
    with pytest.raises(portmanager.LibraryLoadError) as info:
        _lib.load_library([("a", missing), ("b", not_elf), ("c", wrong_abi), ("d", other)])
    message = str(info.value)
    assert f"{missing} (a): no such file" in message
    assert f"{not_elf} (b): cannot load" in message
    assert f"{wrong_abi} (c): ABI version 2, but this package needs 1" in message
    assert f"{other} (d): not libportmanager" in message
    assert isinstance(info.value, ImportError)
    library, path = _lib.load_library([("a", missing), ("real", _lib.library_path)])
    assert path == _lib.library_path


def run_import(environ: Dict[str, str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(BINDING / "src"), **environ)
    code = "import portmanager; print(portmanager.library_path())"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd="/")


def test_portmanager_lib_is_used_and_never_silently_replaced(tmp_path: Path) -> None:
    copy = tmp_path / "libportmanager.so.1"
    shutil.copyfile(Path(_lib.library_path).resolve(), copy)
    out = run_import({"PORTMANAGER_LIB": str(copy)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(copy)
    out = run_import({"PORTMANAGER_LIB": str(tmp_path / "nope.so")})
    assert out.returncode != 0
    assert "LibraryLoadError" in out.stderr and f"{tmp_path / 'nope.so'} ($PORTMANAGER_LIB): no such file" in out.stderr
    assert "checkout build folder" not in out.stderr


def test_the_checkout_imports_without_any_setting() -> None:
    environ = {k: v for k, v in os.environ.items() if k != "PORTMANAGER_LIB"}
    env = dict(environ, PYTHONPATH=str(BINDING / "src"))
    out = subprocess.run([sys.executable, "-c", "import portmanager; print(portmanager.library_path())"],
                         env=env, capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in (str(REPO / "build" / "lib" / "libportmanager.so"),
                                  str(BINDING / "src" / "portmanager" / "libportmanager.so.1"))
