"""CUDA architecture lists as Dockerfiles write them, and what they cover.

`9.0 10.0+PTX` (TORCH_CUDA_ARCH_LIST), `90;100a;120f` (CMake), `sm_90a`,
`compute_90`. A plain `X.Y` cubin runs on GPUs of the same major with minor
>= Y; `X.Ya` only on X.Y; `X.Yf` on the family, the same major with minor >= Y
(rules/cuda.toml cites the Programming Guide's family table); `+PTX` (or a
`compute_`/`-virtual` target) JIT-compiles on any newer GPU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

ARCH_VARIABLES = re.compile(r"(TORCH_CUDA_ARCH_LIST|CMAKE_CUDA_ARCHITECTURES|([A-Z0-9]+_)*CUDA_ARCH(S|_LIST)?)")
CMAKE_SPECIAL = frozenset({"native", "all", "all-major"})
_ENTRY = re.compile(r"(?:sm_|compute_)?(\d+)(?:\.(\d))?([af]?)(\+PTX)?(?:-(real|virtual))?", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    text: str
    major: int
    minor: int
    suffix: str  # "", "a" or "f"
    ptx: bool

    @property
    def compute(self) -> str:
        return f"{self.major}.{self.minor}{self.suffix}"

    def covers(self, gpu: Tuple[int, int]) -> bool:
        if self.ptx:
            return gpu >= (self.major, self.minor)
        if self.suffix == "a":
            return gpu == (self.major, self.minor)
        return gpu[0] == self.major and gpu[1] >= self.minor


def parse(value: str) -> Tuple[List[Target], List[str]]:
    """(targets, entries that are not architectures)."""
    targets, bad = [], []
    for raw in re.split(r"[\s;,]+", value.strip().strip("'\"")):
        if not raw or raw.lower() in CMAKE_SPECIAL:
            continue
        m = _ENTRY.fullmatch(raw)
        if not m:
            bad.append(raw)
            continue
        digits, minor, suffix, ptx, kind = m.groups()
        if minor is None:  # CMake and sm_ spellings: 90 -> 9.0, 120 -> 12.0
            if len(digits) < 2:
                bad.append(raw)
                continue
            major, minor_i = int(digits[:-1]), int(digits[-1])
        else:
            major, minor_i = int(digits), int(minor)
        virtual = bool(ptx) or kind == "virtual" or raw.lower().startswith("compute_")
        targets.append(Target(raw, major, minor_i, suffix.lower(), virtual))
    return targets, bad


def compute_tuple(text: str) -> Tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def compilable(target: Target, arch_row: Optional[dict]) -> Optional[bool]:
    """Whether a CUDA release (its rules/cuda.toml [[arch]] row) compiles for target; None if unknown."""
    if arch_row is None:
        return None
    plain = f"{target.major}.{target.minor}"
    if target.suffix == "a":
        return target.compute in arch_row.get("arch-specific", [])
    if target.suffix == "f":
        return target.compute in arch_row.get("family-specific", [])
    return plain in arch_row.get("compute", [])
