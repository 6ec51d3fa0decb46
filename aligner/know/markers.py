"""PEP 508 marker environments of an image: its platforms and Python."""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence

from packaging.markers import Marker

MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
PYTHONS = ("3.10", "3.11", "3.12", "3.13")  # when the image's Python is not known


def environments(platforms: Sequence[str], python: Optional[str]) -> List[dict]:
    out = []
    for plat in platforms:
        for py in [python] if python else PYTHONS:
            short = ".".join(py.split(".")[:2])
            out.append({"python_version": short, "python_full_version": py if py.count(".") == 2 else short + ".0",
                        "platform_system": "Linux", "sys_platform": "linux", "os_name": "posix",
                        "platform_machine": MACHINES[plat], "implementation_name": "cpython",
                        "platform_python_implementation": "CPython", "extra": ""})
    return out


def applies(marker: Optional[Marker], envs: List[dict], extras: Iterable[str] = ("",)) -> bool:
    """Whether a requirement with this marker applies on any of the environments, for any of the extras."""
    if marker is None:
        return "" in extras
    return any(marker.evaluate(dict(env, extra=e)) for env in envs for e in extras)
