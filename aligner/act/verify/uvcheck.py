"""`aligner verify --resolve`: does each image's set of locked Python pins install together?

Asks uv (a real resolver) with `uv pip compile`, for the image's Python and
each of its platforms, without installing anything. A release published only
as an sdist (flashinfer-python 0.3.0 is one) needs its metadata built, as pip
in the image would build it; `no_build` forbids that, so no package code runs
on this host. A failure carries uv's own explanation.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from aligner.know.components import Catalog
from aligner.base.errors import ToolError

ARCH = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}


class UvError(ToolError):
    """uv is missing or failed."""


@dataclass
class Resolution:
    image: str
    platform: str
    python: Optional[str]
    requirements: List[str]
    ok: bool
    detail: str  # uv's explanation on failure, or how many packages the set pulls in
    seconds: float

    def to_json(self) -> dict:
        return {"image": self.image, "platform": self.platform, "python": self.python,
                "requirements": self.requirements, "ok": self.ok, "detail": self.detail,
                "seconds": round(self.seconds, 1)}


def requirements(locked: Dict[str, str], cat: Catalog) -> List[str]:
    """`dist==version` for each locked component that is a Python distribution."""
    out = []
    for comp, version in sorted(locked.items()):
        c = cat.components.get(comp)
        if c is None:
            continue
        if c.versions == "index" and c.index:
            out.append(f"{c.index[0]}=={version}")
        elif c.versions == "pinned" and c.pip:
            out.append(f"{c.pip[0]}=={version}")
    return out


def uv_bin() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise UvError("uv is not installed (pip install uv): `verify --resolve` asks it") from None
    return find_uv_bin()


def python_platform(platform: str, glibc: str) -> str:
    arch = ARCH.get(platform)
    if arch is None:
        raise UvError(f"no uv target for platform {platform!r}")
    return f"{arch}-manylinux_{glibc.replace('.', '_')}"


def _env(cert: Optional[str]) -> Dict[str, str]:
    env = dict(os.environ)
    if cert and not env.get("SSL_CERT_FILE"):
        env["SSL_CERT_FILE"] = cert  # the CA bundle pip is told to trust, for uv too
    return env


def resolve(image: str, platform: str, locked: Dict[str, str], cat: Catalog, index_url: str, glibc: str,
            cert: Optional[str] = None, timeout: float = 600, no_build: bool = False,
            offline: bool = False) -> Resolution:
    reqs = requirements(locked, cat)
    python = locked.get("python")
    started = time.monotonic()
    if not reqs:
        return Resolution(image, platform, python, reqs, True, "no Python pins to resolve", 0.0)
    if python is None:
        return Resolution(image, platform, python, reqs, False, "the lock has no Python for this image", 0.0)
    argv = [uv_bin(), "pip", "compile", "-", "--python-version", python,
            "--python-platform", python_platform(platform, glibc), "--index-url", index_url,
            "--no-header", "--no-annotate", "--quiet", "--color", "never"] + (["--no-build"] if no_build else []) + (
            ["--offline"] if offline else [])  # uv answers from its own cache, or says what it lacks
    try:
        done = subprocess.run(argv, input="\n".join(reqs) + "\n", capture_output=True, text=True,
                              env=_env(cert), timeout=timeout)
    except subprocess.TimeoutExpired:
        return Resolution(image, platform, python, reqs, False, f"uv did not answer in {timeout:.0f} s",
                          time.monotonic() - started)
    seconds = time.monotonic() - started
    if done.returncode == 0:
        n = sum(1 for line in done.stdout.splitlines() if "==" in line and not line.startswith("#"))
        return Resolution(image, platform, python, reqs, True, f"{n} packages in all", seconds)
    return Resolution(image, platform, python, reqs, False, done.stderr.strip() or f"uv exit {done.returncode}",
                      seconds)
