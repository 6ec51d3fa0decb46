"""Static fact tables in rules/ that no package index holds (NGC releases, CUDA
drivers and architectures, GPUs). Every row must name its source document."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Dict, List, Optional

from aligner.base import _toml
from aligner.base.errors import DataError

FILES = ("ngc", "cuda", "cuda_images", "gpus", "os", "python", "ucx", "torch_builds", "base_env")


class FactsError(DataError):
    """A rules/ table that cannot be read."""


def load_file(name: str, text: str) -> Dict[str, List[dict]]:
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise FactsError(f"rules/{name}.toml: {exc}") from None
    tables = {}
    for table, rows in data.items():
        if not isinstance(rows, list):
            continue
        for n, row in enumerate(rows, 1):
            if not isinstance(row, dict) or not str(row.get("source", "")).strip():
                raise FactsError(f"rules/{name}.toml: [[{table}]] row {n} has no source")
        tables[table] = rows
    return tables


@lru_cache(maxsize=None)
def tables() -> Dict[str, List[dict]]:
    """All fact tables, keyed `FILE.TABLE` (e.g. `ngc.pytorch`, `cuda.driver`, `gpus.gpu`)."""
    out: Dict[str, List[dict]] = {}
    root = resources.files("aligner.rules")
    for name in FILES:
        item = root.joinpath(f"{name}.toml")
        if not item.is_file():
            continue
        for table, rows in load_file(name, item.read_text("utf-8")).items():
            out[f"{name}.{table}"] = rows
    return out


def table(key: str) -> List[dict]:
    return tables().get(key, [])


@lru_cache(maxsize=None)
def base_env(repository: Optional[str]) -> frozenset:
    """Names a base image sets with its own ENV (rules/base_env.toml). For an image aligner does not
    know (or cannot name), every name any known image sets: it may set them too."""
    rows = table("base_env.image")
    for row in rows:
        if repository and row["repository"].lower() == repository.lower():
            return frozenset(row["env"])
    return frozenset(name for row in rows for name in row["env"])


def ngc_row(component: str, release: str) -> Optional[dict]:
    """The rules/ngc.toml row of an NGC container release (component ngc-pytorch, ngc-tritonserver, ...)."""
    return next((r for r in table("ngc." + component[len("ngc-"):]) if r.get("release") == release), None)


def _cuda_tuple(cuda: str) -> Optional[tuple]:
    from aligner.know.versions import cuda_tuple

    try:
        return cuda_tuple(cuda)
    except ValueError:  # a hand-edited lock, or no CUDA version at all
        return None


def arch_row(cuda: str) -> Optional[dict]:
    """The rules/cuda.toml [[arch]] row of a CUDA release (12.8.1 or 12.8): what its nvcc compiles for."""
    want = _cuda_tuple(cuda)
    return next((a for a in table("cuda.arch") if want and a["cuda"] == f"{want[0]}.{want[1]}"), None)


def driver_floor(cuda: str) -> Optional[tuple]:
    """(the lowest Linux driver a CUDA release needs, where that is written), from rules/cuda.toml."""
    from packaging.version import Version

    from aligner.know.versions import cuda_tuple

    rows = table("cuda.driver")
    want = _cuda_tuple(cuda)
    if want is None:
        return None
    match = [r for r in rows if cuda_tuple(r["cuda"])[: len(want)] == want] or \
            [r for r in rows if cuda_tuple(r["cuda"])[:2] == want[:2]]
    if not match:
        return None
    row = min(match, key=lambda r: Version(r["linux"]))
    return row["linux"], "rules/cuda.toml, " + row["source"].split(",")[0]


def os_of(image: str) -> Optional[dict]:
    """The rules/os.toml row of the OS an image's tag names (`...-ubuntu24.04`, `python:3.12-bookworm`)."""
    import re

    last = image.rpartition("/")[2].lower()
    repo, _, tag = last.partition(":")
    for row in table("os.os"):
        if repo in (row["name"], *row.get("aliases", [])) and (tag == row["version"] or tag == row.get("codename")):
            return row  # ubuntu:24.04, debian:bookworm
        for name in (row["name"], *row.get("aliases", [])):
            if re.search(rf"(?:^|[-_.]){re.escape(name)}{re.escape(row['version'])}(?:$|[-_.])", tag):
                return row
        if row.get("codename") and re.search(rf"(?:^|[-_.]){row['codename']}(?:$|[-_.])", tag):
            return row
    return None


def gpu(name: str) -> Optional[dict]:
    """The rules/gpus.toml row of a GPU, by its name or an alias."""
    return next((r for r in table("gpus.gpu") if name in (r["name"], *r.get("aliases", []))), None)


def os_python(image: str) -> Optional[tuple]:
    """(the Python of the distribution's python3 package, its OS as named, source) for a base image's OS."""
    row = os_of(image)
    if row is None:
        return None
    for py in table("os.python"):
        if py["os"] == row["name"] and py["version"] == row["version"]:
            name = {"ubuntu": "Ubuntu", "debian": "Debian", "rockylinux": "RHEL"}.get(row["name"], row["name"])
            return py["python"], f"{name} {row['version']}", py["source"]
    return None

