"""``python -m portmanager [REGISTRY]``: the allocation summary, as the original spec's built-in test printed it.

Exit status: 0 on success; 2 when the registry cannot be opened or standard
output cannot be written (for example ``> /dev/full``; the message goes to
standard error); 141 (128 + SIGPIPE, what a shell shows for ``portmanager``
killed by SIGPIPE) when the reader went away (``| head -1``), with no message.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import List, Optional

from . import PortManager, PortManagerError

#: Exit status after a closed pipe: what a shell reports for a process killed by SIGPIPE.
BROKEN_PIPE_STATUS = 128 + int(signal.SIGPIPE)


def main(argv: Optional[List[str]] = None) -> int:
    """Prints every service's ports per instance; returns the exit status (module docstring)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print("usage: python -m portmanager [REGISTRY]", file=sys.stderr)
        return 2
    try:
        manager = PortManager(args[0] if args else None)
    except PortManagerError as error:
        print(f"portmanager: {error}", file=sys.stderr)
        return 2
    try:
        with manager:
            _print_summary(manager)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head -1`): end quietly. Point stdout at
        # /dev/null so that the interpreter's own flush at exit fails no more.
        _silence_stdout()
        return BROKEN_PIPE_STATUS
    except OSError as error:
        _silence_stdout()
        print(f"portmanager: cannot write to standard output: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def _silence_stdout() -> None:
    """Replaces file descriptor 1 with /dev/null, dropping what is still buffered."""
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, sys.stdout.fileno())
    finally:
        os.close(null)


def _print_summary(manager: PortManager) -> None:
    """Every service's ports per instance, on standard output."""
    print(f"registry: {manager.source}")
    environment = manager.environment
    if environment.name:
        print(f"environment: {environment.name} (offset {environment.offset:+d})")
    current = None
    for a in manager.allocations():
        if a.service != current:
            current = a.service
            print(f"\n{a.service}")
        ports = f"{a.host_port}" if a.host_port == a.host_port_last else f"{a.host_port}-{a.host_port_last}"
        inside = "" if a.container_port == a.host_port else f" -> container {a.container_port}"
        name = manager.container_name(a.service, a.instance)
        print(f"  instance {a.instance:<2} {a.port_type:<18} {ports:<12}{inside}  ({name})")


if __name__ == "__main__":
    sys.exit(main())
