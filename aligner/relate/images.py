"""Images: which Dockerfiles make one (the configured images, and every other file on its own), and
the one policy for an image's Python and CUDA that check, lock and fix share."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from aligner.know import facts
from aligner.read.config import DEFAULT_PLATFORMS, Config, ImageConfig
from aligner.read.dockerfile import Dockerfile, Pin
from aligner.base.paths import located
from aligner.base.span import Span


@dataclass
class Value:
    """A Python or CUDA version of an image, and where it is set."""

    version: str
    path: str
    line: int
    column: int
    origin: str  # "container/Dockerfile.base:6", or "… (NGC pytorch 25.12, rules/ngc.toml)"
    pin: Optional[Pin] = None  # the pin that writes it; None when a container's row in rules/ngc.toml says it
    container: Optional[Pin] = None  # the NGC container pin whose row says it

    @property
    def span(self) -> Span:
        return Span(self.path, self.line, self.column)


def decided(values: List[Value]) -> Optional[Value]:
    """The value the image has: a version written in its files wins over what its container brings, and
    of those the last written wins (later files and stages build on earlier ones); with none written,
    the first container's."""
    written = [v for v in values if v.pin is not None]
    return written[-1] if written else (values[0] if values else None)


@dataclass
class Image:
    name: str
    files: List[Dockerfile]
    config: Optional[ImageConfig] = None
    pythons: List[Value] = field(default_factory=list)
    cudas: List[Value] = field(default_factory=list)

    @property
    def platforms(self) -> Tuple[str, ...]:
        return self.config.platforms if self.config else self.default_platforms

    default_platforms: Tuple[str, ...] = DEFAULT_PLATFORMS

    @property
    def gpus(self) -> Tuple[str, ...]:
        return self.config.gpus if self.config else ()

    def python(self) -> Optional[Value]:
        return decided(self.pythons)

    def cuda(self) -> Optional[Value]:
        return decided(self.cudas)

    def pins(self) -> List[Pin]:
        return [p for f in self.files for p in f.pins]

    def exact(self, component: str) -> List[Pin]:
        return [p for p in self.pins() if p.component == component and p.form == "version" and p.version]


where = located


def group(files: Dict[str, Dockerfile], cfg: Config) -> List[Image]:
    images: List[Image] = []
    claimed = set()
    by_abs = {os.path.abspath(p): p for p in files}
    for name, ic in sorted(cfg.images.items()):
        wanted = [by_abs.get(os.path.abspath(str(cfg.root / d))) for d in ic.dockerfiles]
        members = [files[p] for p in wanted if p is not None]
        if members:
            images.append(Image(name, members, ic))
            claimed.update(f.path for f in members)
    for path, df in sorted(files.items()):
        if path not in claimed:
            plats = cfg.platforms if cfg.platforms_given else evidence(df)
            images.append(Image(os.path.relpath(path, cfg.root), [df], None, default_platforms=plats))
    for img in images:
        _base_values(img, cfg.root)
    return images


def evidence(df: Dockerfile) -> Tuple[str, ...]:
    """The platforms a file with no configured image is built for: linux/amd64, and what its own
    `FROM --platform=` and architecture branches name. No file is assumed to be built for arm64."""
    return tuple(sorted({"linux/amd64", *df.platforms}))


def of(config: ImageConfig, files: List[Dockerfile], root: Path) -> Image:
    """One configured image from its parsed Dockerfiles, in build order."""
    img = Image(config.name, files, config)
    _base_values(img, root)
    return img


def _os_python(img: Image, root: Path) -> None:
    """With no Python written, the distribution's python3 an image installs from its OS's packages (and no
    Python of another kind): `apt-get install python3-pip` on Ubuntu 22.04 is Python 3.10."""
    if img.pythons or any(df.other_python for df in img.files):
        return
    for n, df in enumerate(img.files):
        for line, label in df.os_python:
            base = _root_image(img.files, n, label)
            found = facts.os_python(base) if base else None
            if found:
                version, os_name, _ = found
                src = where(df.path, line, root)
                img.pythons.append(Value(version, df.path, line, 1, f"{src}, python3 of {os_name} (rules/os.toml)"))
                return


def _root_image(files: List[Dockerfile], n: int, label: Optional[str]) -> Optional[str]:
    """The image a stage is built on at the bottom of its chain of stages (and of the image's earlier files)."""
    df = files[n]
    stage = next((s for s in df.stages if s.label == label), None)
    while stage is not None and stage.parent is not None:
        stage = df.stages[stage.parent]
    if stage is None:
        return None
    if facts.os_of(stage.image) is None and n > 0 and files[n - 1].stages:  # FROM the image an earlier file built
        return _root_image(files, n - 1, files[n - 1].stages[-1].label)
    return stage.image


def _base_values(img: Image, root: Path) -> None:
    for pin in img.pins():
        if pin.version is None or pin.form != "version":
            continue
        src = where(pin.path, pin.line, root)
        if pin.component == "python":
            img.pythons.append(Value(pin.version, pin.path, pin.line, pin.column, src, pin))
        elif pin.component == "cuda":
            img.cudas.append(Value(pin.version, pin.path, pin.line, pin.column, src, pin))
        elif pin.component.startswith("ngc-"):
            row = facts.ngc_row(pin.component, pin.version)
            label = f"{src} ({pin.component} {pin.version}, rules/ngc.toml)"
            if row and row.get("python"):
                img.pythons.append(Value(row["python"], pin.path, pin.line, pin.column, label, None, pin))
            if row and row.get("cuda"):
                img.cudas.append(Value(row["cuda"], pin.path, pin.line, pin.column, label, None, pin))
    _os_python(img, root)
