"""The CUDA builds of each torch release on PyTorch's own wheel index (rules/torch_builds.toml): what a torch
from a cuXYZ index can be rebuilt for when the image's CUDA moves."""

from __future__ import annotations

from typing import List, Optional, Sequence

from packaging.version import InvalidVersion, Version

from aligner.know import facts
from aligner.know.versions import cuda_tuple


def builds(torch: str, platforms: Sequence[str]) -> Optional[List[str]]:
    """The CUDA builds (12.8, 13.0) of a torch release published for every one of the platforms, oldest
    first; None when rules/torch_builds.toml does not know the release."""
    try:
        v = Version(torch)
    except InvalidVersion:
        return None
    row = next((r for r in facts.table("torch_builds.torch") if r["torch"] == f"{v.major}.{v.minor}"), None)
    if row is None:
        return None
    found = None
    for platform in platforms:
        have = set(row.get(platform.replace("/", "-"), []))
        found = have if found is None else found & have
    return sorted(found or (), key=cuda_tuple)


def for_cuda(available: List[str], cuda: str) -> Optional[str]:
    """The build a torch for this CUDA takes: the newest of its major not newer than it (an older minor runs
    through CUDA's minor-version compatibility)."""
    want = cuda_tuple(cuda)
    fits = [b for b in available if cuda_tuple(b)[0] == want[0] and cuda_tuple(b)[:2] <= want[:2]]
    return max(fits, key=cuda_tuple) if fits else None


def tag(cuda: str) -> str:
    """12.8 -> 128: the digits of a cuXYZ index or backend."""
    major, minor = cuda_tuple(cuda)[:2]
    return f"{major}{minor}"
