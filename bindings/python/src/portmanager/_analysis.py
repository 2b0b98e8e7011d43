"""Whole-registry analysis (``pm_analyze``): its records and :meth:`PortManager.analyze`."""

from __future__ import annotations

from collections import namedtuple
from ctypes import byref, c_int32, c_size_t, c_void_p

from . import _args, _header, _lib

TYPE_CHECKING = False  # typing is not imported at run time (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple, TypeVar, Union

    _T = TypeVar("_T")

__all__ = ["SEVERITIES", "Finding", "Analysis", "Analyzing"]

#: ``pm_severity`` values and their names.
SEVERITIES: Dict[int, str] = {
    _header.PM_SEVERITY_NOTE: "note", _header.PM_SEVERITY_WARNING: "warning", _header.PM_SEVERITY_ERROR: "error"
}


class Finding(namedtuple("Finding", "severity text")):
    """One finding of :meth:`PortManager.analyze`.

    Fields:

    - ``severity`` (str): ``"note"``, ``"warning"`` or ``"error"``.
    - ``text`` (str): ``"FILE:LINE:COLUMN: error: MESSAGE; fix: SUGGESTION"``, as compilers print them.
    """

    __slots__ = ()


class Analysis(namedtuple("Analysis", "total errors warnings findings json")):
    """A whole-registry analysis (``pm_analyze``): collisions, bad offsets, risky ports.

    Fields:

    - ``total`` (int): How many findings (``pm_analysis_count``'s count).
    - ``errors`` (int)
    - ``warnings`` (int)
    - ``findings`` (Tuple[Finding, ...]): Ordered by source location, then severity.
    - ``json`` (str): The library's JSON report (schema in docs/analysis.md).
    """

    __slots__ = ()

    @property
    def conflict_free(self) -> bool:
        """True when no finding is an error."""
        return bool(self.errors == 0)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON report, parsed."""
        import json

        return json.loads(self.json)  # type: ignore[no-any-return]


def read_analysis(analysis: Optional[int]) -> Analysis:
    """Reads everything out of a ``pm_analysis *`` (which the caller frees)."""
    count, errors, warnings = c_size_t(), c_size_t(), c_size_t()
    _lib.lib.pm_analysis_count(analysis, byref(count), byref(errors), byref(warnings))
    findings = []
    for index in range(count.value):
        severity = c_int32()
        text = _lib.read_string(_lib.lib.pm_analysis_finding, analysis, index, byref(severity))
        findings.append(Finding(SEVERITIES.get(severity.value, str(severity.value)), text))
    report = _lib.read_string(_lib.lib.pm_analysis_json, analysis)
    return Analysis(count.value, errors.value, warnings.value, tuple(findings), report)


class Analyzing:
    """:class:`~portmanager.PortManager`'s analysis method (a mixin: the manager supplies ``_call``)."""

    __slots__ = ()

    if TYPE_CHECKING:
        def _call(self, function: Callable[..., _T], *arguments: Any) -> _T: ...

    def analyze(
        self,
        ephemeral_range: Union[Tuple[int, int], str, None] = "kernel",
        reserved_ports: Optional[str] = None,
    ) -> Analysis:
        """Proves the whole registry conflict-free, or says where it is not (``pm_analyze``).

        Every host port of every instance of every service, with no environment
        and with each of the registry's environments, is checked for collisions,
        out-of-range offsets, privileged ports and ports in the ephemeral range.

        Args:
            ephemeral_range: ``"kernel"`` to read /proc/sys/net/ipv4/ip_local_port_range,
                ``None`` for no ephemeral check, or ``(low, high)`` with 1 <= low <= high <= 65535.
            reserved_ports: ports exempt from the ephemeral check, as in
                /proc/sys/net/ipv4/ip_local_reserved_ports (``"8080,9000-9100"``);
                ``None`` reads that file when the range comes from the kernel.

        Raises:
            InvalidArgumentError: a bad range or reserved list.
            RegistryIOError: a /proc file cannot be read or parsed.
            TooLargeError: the lattice has more points than the analysis limit
                (docs/analysis.md); nothing is allocated for it.
        """
        if ephemeral_range == "kernel":
            low, high = 0, 0
        elif ephemeral_range is None:
            low, high = -1, -1
        elif isinstance(ephemeral_range, tuple) and len(ephemeral_range) == 2:
            low = _args.int32(_args.integer(ephemeral_range[0], "ephemeral_range[0]"))
            high = _args.int32(_args.integer(ephemeral_range[1], "ephemeral_range[1]"))
        else:
            raise TypeError(f"ephemeral_range must be 'kernel', None or a (low, high) tuple, not {ephemeral_range!r}")
        reserved = None if reserved_ports is None else _args.text(reserved_ports, "reserved_ports")

        def run(handle: int) -> Analysis:
            out = c_void_p()
            _lib.lib.pm_analyze(handle, low, high, reserved, byref(out))
            try:
                return read_analysis(out.value)
            finally:
                _lib.lib.pm_analysis_free(out.value)

        return self._call(run)
