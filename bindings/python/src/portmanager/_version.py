"""The Python package's version (the library reports its own through :func:`portmanager.library_version`)."""

__version__ = "0.1.0"
