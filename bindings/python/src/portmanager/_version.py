"""The Python package's version: ``PM_VERSION_STRING`` of include/portmanager.h,
the one place the version is written.

A built package (a wheel) holds the literal, which setup.py writes over this
file. Imported from a checkout (``bindings/python/src`` on ``sys.path``), it is
read from the checkout's header. The loaded library reports its own version
through :func:`portmanager.library_version`.
"""


def _from_header() -> str:
    import os

    header = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "include", "portmanager.h")
    try:
        with open(header, encoding="utf-8") as text:
            for line in text:
                if line.startswith("#define PM_VERSION_STRING "):
                    return line.split('"')[1]
    except OSError:
        pass
    return "0+unknown"


__version__ = _from_header()
