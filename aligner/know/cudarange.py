"""Which CUDA releases a GPU, an architecture target or a host driver allows, as a version range with its
source, from rules/cuda.toml and rules/gpus.toml. The resolver takes these as constraints on the image's
CUDA; a range says only what the facts prove, and nothing where they are silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.know import archs, facts
from aligner.know.versions import cuda_tuple


@dataclass(frozen=True)
class Range:
    specifier: SpecifierSet
    text: str  # "CUDA >= 12.8 (compute capability 10.0)"
    source: str  # the rules/ table and the document behind it


def _cut(source: str) -> str:
    return source.split(",")[0]


def added(target: archs.Target) -> Optional[tuple]:
    """(the first CUDA whose nvcc compiles for the target, source) from rules/cuda.toml [[arch-added]]."""
    for row in facts.table("cuda.arch-added"):
        if target.compute in row["compute"]:
            return row["cuda"], row["source"]
    return None


def for_target(target: archs.Target) -> Optional[Range]:
    """The CUDA releases whose nvcc compiles for a target of an arch list: from the release that added it,
    and leaving out every release whose [[arch]] row lacks it (13.0 dropped 7.0). A `+PTX` target too:
    the toolkit still has to compile its PTX."""
    parts, why = [], []
    first = added(target)
    if first:
        parts.append(f">={first[0]}")
        why.append(f"rules/cuda.toml [[arch-added]], {_cut(first[1])}")
    lacking = [row["cuda"] for row in facts.table("cuda.arch") if archs.compilable(target, row) is False
               and not (first and Version(row["cuda"]) < Version(first[0]))]
    rows = sorted((row["cuda"] for row in facts.table("cuda.arch")), key=cuda_tuple)
    if lacking and rows[len(rows) - len(lacking):] == sorted(lacking, key=cuda_tuple):
        parts.append(f"<{min(lacking, key=cuda_tuple)}")  # dropped for good: 13.0 removed Volta's 7.0
    else:
        parts += [f"!={minor}.*" for minor in lacking]
    if lacking:
        why.append("rules/cuda.toml [[arch]] rows")
    if not parts:
        return None
    spec = SpecifierSet(",".join(parts))
    return Range(spec, f"CUDA {_readable(spec)} to compile it", "; ".join(why))


def for_gpu(name: str) -> Optional[Range]:
    """The CUDA releases that support a GPU: from the release that added its compute capability, or the
    minimum NVIDIA states for the product where that is later (DGX Spark)."""
    row = facts.gpu(name)
    if row is None:
        return None
    floors = []
    major, minor = archs.compute_tuple(row["compute"])
    first = added(archs.Target(row["compute"], major, minor, "", False))
    if first:
        floors.append((first[0], f"rules/cuda.toml [[arch-added]], {_cut(first[1])}"))
    for stated in facts.table("gpus.min-cuda"):
        if stated["gpu"] == row["name"]:
            floors.append((stated["cuda"], f"rules/gpus.toml [[min-cuda]], {_cut(stated['source'])}"))
    if not floors:
        return None
    cuda, source = max(floors, key=lambda f: cuda_tuple(f[0]))
    return Range(SpecifierSet(f">={cuda}"), f"CUDA >= {cuda} for compute capability {row['compute']}", source)


def for_driver(driver: str) -> Optional[Range]:
    """The CUDA releases a host driver runs: below the first release whose Linux driver floor is above it
    (rules/cuda.toml [[driver]]; newer releases never need an older driver, a test holds the table to that)."""
    rows = sorted(facts.table("cuda.driver"), key=lambda r: cuda_tuple(r["cuda"]))
    over = next((r for r in rows if Version(r["linux"]) > Version(driver)), None)
    if over is None:
        return None
    return Range(SpecifierSet(f"<{over['cuda']}"), f"CUDA < {over['cuda']} ({over['cuda']} needs a driver >= "
                                                   f"{over['linux']})",
                 f"rules/cuda.toml [[driver]], {_cut(over['source'])}")


def _readable(spec: SpecifierSet) -> str:
    items = sorted(spec, key=lambda s: (s.operator != ">=", Version(s.version.rstrip(".*"))))
    return ", ".join(f"{s.operator} {s.version}" for s in items)


def known_releases() -> List[str]:
    """Every CUDA release the driver table names, oldest first."""
    return sorted({r["cuda"] for r in facts.table("cuda.driver")}, key=cuda_tuple)
