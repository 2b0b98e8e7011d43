"""``python -m portmanager [REGISTRY]``: the allocation summary, as the seed's built-in test printed it."""

from __future__ import annotations

import sys
from typing import List, Optional

from . import PortManager, PortManagerError


def main(argv: Optional[List[str]] = None) -> int:
    """Prints every service's ports per instance; exit 0, or 2 when the registry cannot be opened."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print("usage: python -m portmanager [REGISTRY]", file=sys.stderr)
        return 2
    try:
        manager = PortManager(args[0] if args else None)
    except PortManagerError as error:
        print(f"portmanager: {error}", file=sys.stderr)
        return 2
    with manager:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
