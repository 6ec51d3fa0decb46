"""An image's CUDA as a variable of the resolver: its candidates, and what its GPUs, arch lists and hosts'
driver ask of it.

CUDA is free to move only when every place the image writes it is the release of an `nvidia/cuda` FROM
tag whose flavour and OS aligner can read: then each release published with all of those tags is a
candidate. A CUDA written anywhere else (an ARG an install script reads, another repository's tag, an NGC
container's) has one candidate, its own: aligner cannot tell which other values would build.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet, List, Optional, Tuple

from packaging.specifiers import SpecifierSet

from aligner.base.paths import located
from aligner.know import archs, cudaimages, cudarange, ngc
from aligner.read.dockerfile.commands import image_path
from aligner.relate.images import Image


@dataclass(frozen=True)
class Need:
    """A constraint on the image's CUDA, before the resolver's Constraint wraps it."""

    specifier: SpecifierSet
    source: str  # "aligner.toml, image serve: gpus B200", "Dockerfile:2 TORCH_CUDA_ARCH_LIST 10.0"
    text: str  # "CUDA >= 12.8 (compute capability 10.0; rules/cuda.toml [[arch-added]], …)"
    verb: str = "needs"
    kind: str = "gpu"  # gpu, arch or driver
    what: str = ""  # "the GB10": what needs it, without the image's name


@dataclass(frozen=True)
class CudaVariable:
    releases: Tuple[str, ...]  # candidates besides the image's own; () when CUDA cannot move
    shapes: FrozenSet[cudaimages.Shape]  # the nvidia/cuda tags it is written in
    compiles: Optional[str]  # "Dockerfile:2 TORCH_CUDA_ARCH_LIST" when the image compiles CUDA code with
    #                          the base's nvcc (a devel base and an arch list), else None
    needs: Tuple[Need, ...]


def shapes(img: Image) -> Optional[FrozenSet[cudaimages.Shape]]:
    """The nvidia/cuda tag shapes every CUDA pin of the image is written in; None when one is written
    elsewhere, or in a tag aligner cannot read."""
    found = set()
    cuda_pins = [(df, p) for df in img.files for p in df.pins if p.component == "cuda" and p.form == "version"]
    from_spans = {(p.path, p.start, p.end) for _, p in cuda_pins if p.kind == "from"}
    for df, pin in cuda_pins:
        if pin.start is None:
            return None
        if pin.kind != "from":
            if (pin.path, pin.start, pin.end) not in from_spans:
                return None  # an ARG some other instruction reads
            continue
        stage = next((s for s in df.stages if s.line == pin.use_line), None)
        if stage is None:
            return None
        path, repo, tag_at = image_path(stage.image)
        if path != cudaimages.REPOSITORY or tag_at is None:
            return None
        read = cudaimages.shape(stage.image.split("@")[0][tag_at:])
        if read is None:
            return None
        found.add(read[1])
    return frozenset(found) or None


def variable(img: Image, root: Path, config_name: str) -> CudaVariable:
    base = img.cuda()
    tags = shapes(img) if base is not None and base.pin is not None else None
    releases = tuple(cudaimages.common(tags)) if tags else ()
    if base is not None and base.pin is None and base.container is not None:  # an NGC base: its releases' CUDAs
        releases = tuple(ngc.cudas(base.container.component))
    compiles = None
    needs: List[Need] = []
    for name in img.gpus:
        r = cudarange.for_gpu(name)
        if r:
            needs.append(Need(r.specifier, f"{config_name}, image {img.name}: gpus {name}", f"{r.text} ({r.source})", kind="gpu",
                              what=f"the {name}"))
    seen = set()
    for df in img.files:
        for var in df.variables:
            if var.value is None or var.unknown or not archs.ARCH_VARIABLES.fullmatch(var.name):
                continue
            where = f"{located(df.path, var.value_line or var.line, root)} {var.name}"
            targets, _ = archs.parse(var.value)
            if targets and compiles is None:
                compiles = where
            for t in targets:
                r = cudarange.for_target(t)
                if r and (where, t.compute) not in seen:
                    seen.add((where, t.compute))
                    needs.append(Need(r.specifier, f"{where} {t.text}", f"{r.text} ({r.source})", kind="arch"))
    driver = img.config.driver if img.config else None
    if driver:
        r = cudarange.for_driver(driver)
        if r:
            needs.append(Need(r.specifier, f"{config_name}, image {img.name}: driver {driver}", f"{r.text} ({r.source})",
                              "allows", "driver"))
    toolkit = bool(tags) and any(s.toolkit for s in tags)
    return CudaVariable(releases, tags or frozenset(), compiles if toolkit else None, tuple(needs))
