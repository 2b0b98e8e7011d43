#!/usr/bin/env python3
"""Checks that the header, the signature table and the built library agree.

    check_abi.py HEADER SIGNATURES LIBRARY

What the compiler checks now, and this script no longer needs to: each shim
in Sources/PortManagerC is `@c @implementation` of its header declaration
(through module CPortManagerHeader), so a shim whose name, argument or return
types differ from the header's does not compile, and neither does a shim the
header does not declare. What the compiler cannot see stays here: a function
declared in the header but implemented nowhere (it compiles; only a caller's
link fails), the symbols the version script lets out of the linked library,
its soname and NEEDED entries, the signature table that the libffi suite
calls through, and the run-time names of pm_status_str.

1. Every PM_API declaration of HEADER, its return and argument types reduced to
   the table's type classes, equals the row of SIGNATURES for that function, and
   both list the same functions.
2. LIBRARY's dynamic symbol table (nm -D --defined-only) exports exactly those
   functions: nothing more (no Swift runtime, no mangled symbols), nothing less.
3. LIBRARY has the soname libportmanager.so.<PM_ABI_VERSION>, and needs no
   Swift runtime or Foundation library (NEEDED entries).
4. HEADER's enum pm_status is contiguous from PM_OK = 0, and LIBRARY's
   pm_status_str names each value as the header does, and the next value,
   -1 and INT32_MIN PM_ERR_UNKNOWN_STATUS. The library's names come from the
   header itself (Swift's Status, through module CPortManagerHeader); this
   proves that the built library and the header agree.

Prints one line per check and `N passed, N failed`; exits 1 on any failure.
"""
import ctypes
import re
import subprocess
import sys

passed = 0
failed = 0


def check(ok: bool, what: str, detail: str = "") -> None:
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}" + (f": {detail}" if detail else ""))


def type_class(ctype: str, where: str) -> str:
    """Reduces a C type as written in the header to a signature-table class."""
    t = re.sub(r"\s+", " ", ctype.replace("*", " * ")).strip()
    t = t.replace("* ", "*").replace(" *", "*")
    simple = {
        "void": "void",
        "pm_status": "status",
        "int": "int",
        "int32_t": "i32",
        "int64_t": "i64",
        "uint32_t": "u32",
        "size_t": "size",
        "const char*": "str",
        "pm_log_fn": "fn",
    }
    if t in simple:
        return simple[t]
    if t.endswith("*") and "(" not in t:
        return "ptr"
    raise SystemExit(f"check_abi.py: {where}: no signature class for C type '{ctype}'; extend type_class()")


def header_functions(path: str) -> dict:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)  # comments
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # preprocessor lines (the PM_API definitions)
    functions = {}
    for match in re.finditer(r"\bPM_API\b([^;]*);", text):
        decl = re.sub(r"\s+", " ", match.group(1)).strip()
        m = re.fullmatch(r"(.+?)\b(pm_\w+)\s*\((.*)\)", decl)
        if not m:
            raise SystemExit(f"check_abi.py: cannot parse the declaration 'PM_API {decl};' in {path}")
        ret, name, params = m.group(1), m.group(2), m.group(3).strip()
        args = []
        if params and params != "void":
            for param in params.split(","):
                param = param.strip()
                # Drop the parameter name: the last identifier, unless the type is a bare word.
                pm = re.fullmatch(r"(.*?[\s*])(\w+)", param)
                ctype = pm.group(1) if pm and pm.group(1).strip() not in ("", "const", "unsigned") else param
                args.append(type_class(ctype, f"{name}({param})"))
        if name in functions:
            raise SystemExit(f"check_abi.py: {name} is declared twice in {path}")
        functions[name] = [type_class(ret, f"{name} return")] + args
    return functions


def header_statuses(path: str) -> list:
    """(name, value) of each enumerator of `typedef enum pm_status`, in source order."""
    text = open(path, encoding="utf-8").read()
    body = re.search(r"typedef enum pm_status \{(.*?)\} pm_status;", text, re.S)
    if not body:
        raise SystemExit(f"check_abi.py: no 'typedef enum pm_status {{ ... }} pm_status;' in {path}")
    code = re.sub(r"/\*.*?\*/", " ", body.group(1), flags=re.S)
    return [(m.group(1), int(m.group(2))) for m in re.finditer(r"\b(PM_\w+)\s*=\s*(-?\d+)", code)]


def check_statuses(header: str, library: str) -> None:
    statuses = header_statuses(header)
    values = [value for _, value in statuses]
    check(len(statuses) > 0 and values == list(range(len(statuses))),
          f"pm_status is contiguous from PM_OK = 0 ({len(statuses)} values)", f"values {values}")
    try:
        lib = ctypes.CDLL(library)
    except OSError as error:
        check(False, f"load {library}", str(error))
        return
    lib.pm_status_str.restype = ctypes.c_char_p
    lib.pm_status_str.argtypes = [ctypes.c_int32]
    wrong = [f"{value}: '{lib.pm_status_str(value).decode()}', header '{name}'"
             for name, value in statuses if lib.pm_status_str(value).decode() != name]
    check(not wrong, "pm_status_str names every pm_status as the header does", "; ".join(wrong))
    unknown = [len(statuses), -1, -2**31]
    wrong = [f"{value}: '{lib.pm_status_str(value).decode()}'"
             for value in unknown if lib.pm_status_str(value).decode() != "PM_ERR_UNKNOWN_STATUS"]
    check(not wrong, "pm_status_str gives PM_ERR_UNKNOWN_STATUS past the header's values", "; ".join(wrong))


def table_functions(path: str) -> dict:
    functions = {}
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 2:
            raise SystemExit(f"{path}:{number}: expected 'NAME RETURN [ARG ...]', got '{line}'")
        if fields[0] in functions:
            raise SystemExit(f"{path}:{number}: {fields[0]} is listed twice")
        functions[fields[0]] = fields[1:]
    return functions


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    header, table, library = sys.argv[1:]
    declared = header_functions(header)
    listed = table_functions(table)
    check(len(declared) > 0, f"the header declares PM_API functions ({len(declared)})")

    for name in sorted(set(declared) - set(listed)):
        check(False, f"{name} is declared in {header}", f"missing from {table}")
    for name in sorted(set(listed) - set(declared)):
        check(False, f"{name} is listed in {table}", f"not declared PM_API in {header}")
    for name in sorted(set(declared) & set(listed)):
        check(declared[name] == listed[name], f"{name}: table row matches the header",
              f"header gives '{' '.join(declared[name])}', table says '{' '.join(listed[name])}'")

    nm = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True)
    check(nm.returncode == 0, f"nm -D {library}", nm.stderr.strip())
    exported = {}
    for line in nm.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            exported[parts[2]] = parts[1]
    others = sorted(s for s in exported if not s.startswith("pm_"))
    check(not others, "the library exports only pm_* symbols",
          f"{len(others)} others, e.g. {', '.join(others[:5])}")
    for name in sorted(set(exported) - set(declared)):
        if name.startswith("pm_"):
            check(False, f"{library} exports {name}", f"not declared PM_API in {header}")
    for name in sorted(set(declared) - set(exported)):
        check(False, f"{name} is declared in {header}", f"not exported by {library}")
    check(all(exported.get(n) == "T" for n in declared), "every declared function is an exported text symbol",
          ", ".join(f"{n}={exported.get(n)}" for n in declared if exported.get(n) != "T"))

    abi = re.search(r"#\s*define\s+PM_ABI_VERSION\s+(\d+)", open(header, encoding="utf-8").read())
    check(abi is not None, "the header defines PM_ABI_VERSION")
    dynamic = subprocess.run(["readelf", "-d", library], capture_output=True, text=True).stdout
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[(.*?)\]", dynamic)
    expected = f"libportmanager.so.{abi.group(1) if abi else '?'}"
    check(soname == [expected], f"soname is {expected}", f"readelf -d shows {soname}")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", dynamic)
    bad = [n for n in needed if re.search(r"swift|Foundation|icu|dispatch|BlocksRuntime", n, re.I)]
    check(not bad and bool(needed), "no Swift runtime or Foundation among NEEDED " + " ".join(needed), " ".join(bad))

    check_statuses(header, library)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
