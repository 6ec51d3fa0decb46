"""The tags of NVIDIA's CUDA base image (rules/cuda_images.toml): which CUDA releases an image built
`FROM nvidia/cuda:12.4.1-devel-ubuntu22.04` can move to, keeping its flavour and OS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet, List, Optional, Tuple

from aligner.know import facts
from aligner.know.versions import cuda_tuple

REPOSITORY = "nvidia/cuda"
# 12.8.1-devel-ubuntu24.04, 12.1.1-cudnn8-runtime-ubi9, 13.0.2-cudnn-devel-ubuntu22.04
_TAG = re.compile(r"(?P<cuda>\d+\.\d+\.\d+)-(?P<flavour>(?:cudnn\d*-)?(?:base|runtime|devel))-(?P<os>[a-z]+\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class Shape:
    """A tag less its CUDA release: what stays when the release moves."""

    flavour: str  # base, runtime, devel, cudnn-devel, cudnn8-runtime, ...
    os: str  # ubuntu22.04, ubi9, rockylinux8

    @property
    def toolkit(self) -> bool:
        """Whether the image carries nvcc: NVIDIA's devel flavours do, base and runtime do not."""
        return self.flavour.endswith("devel")

    def tag(self, cuda: str) -> str:
        return f"{cuda}-{self.flavour}-{self.os}"


def shape(tag: str) -> Optional[Tuple[str, Shape]]:
    """(CUDA release, shape) of an nvidia/cuda tag, or None for a tag of another form (`latest`)."""
    m = _TAG.fullmatch(tag)
    return (m.group("cuda"), Shape(m.group("flavour"), m.group("os"))) if m else None


@lru_cache(maxsize=None)
def _published() -> Dict[Shape, Dict[str, str]]:
    """shape -> {CUDA release: source} for every tag the table lists."""
    out: Dict[Shape, Dict[str, str]] = {}
    for row in facts.table("cuda_images.tag"):
        for os_name in row["os"]:
            for flavour in row["flavours"]:
                out.setdefault(Shape(flavour, os_name), {})[row["cuda"]] = row["source"]
    return out


def releases(shape_: Shape) -> List[str]:
    """The CUDA releases published with this flavour and OS, oldest first."""
    return sorted(_published().get(shape_, {}), key=cuda_tuple)


def source(shape_: Shape, cuda: str) -> Optional[str]:
    return _published().get(shape_, {}).get(cuda)


def common(shapes: FrozenSet[Shape]) -> List[str]:
    """The CUDA releases published in every one of the shapes (an image's builder and runtime stages)."""
    found = None
    for s in shapes:
        have = set(releases(s))
        found = have if found is None else found & have
    return sorted(found or (), key=cuda_tuple)
