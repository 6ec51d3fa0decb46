"""What `verify --build` and `bake` build: per locked image and platform, the Dockerfiles in order,
each with the lock's values as build args, and the probes to run in the result.

Build args come from the Dockerfile itself: each ARG that pins a locked
component gets the value `aligner fix` would write there (quotes, `v` prefix
and requirement form kept), read back from the rewritten bytes in memory.
Nothing else is overridden, so a literal pin in a RUN line that disagrees
with the lock shows up in the probes, not hidden by the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from aligner.know import versions
from aligner.know.components import Catalog
from aligner.read.dockerfile import read
from aligner.read.dockerfile.reader import read_bytes
from aligner.base.errors import InputError
from aligner.read.rewrite import render, rewrite

DEFAULT_GLIBC = "2.28"  # manylinux_2_28: what most CUDA wheels are built for

_ARG_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}?")


@dataclass(frozen=True)
class Step:
    dockerfile: str  # relative to the root
    tag: str
    args: Dict[str, str]  # --build-arg values taken from the lock (and --build-arg overrides)
    base_args: Dict[str, str] = field(default_factory=dict)  # ARGs of FROM pointed at the previous step


@dataclass
class Target:
    image: str
    platform: str
    context: str
    steps: List[Step]
    locked: Dict[str, str]
    probes: List[dict]
    glibc: str = DEFAULT_GLIBC  # of the base image's OS, for `verify --resolve`

    @property
    def name(self) -> str:
        return f"{self.image}-{self.platform.split('/')[-1]}"

    @property
    def tag(self) -> str:
        return self.steps[-1].tag


def lock_args(path: str, locked: Dict[str, str], cat: Catalog) -> Dict[str, str]:
    """ARG name -> value, for each ARG of the file that pins a locked component."""
    return _locked_doc(path, locked, cat)[0]


def _locked_doc(path: str, locked: Dict[str, str], cat: Catalog, raw=None):
    """(lock_args, the file as the lock's values make it); `raw(path)` gives the bytes the run read."""
    data = (raw or read_bytes)(path)
    doc = read(path, data, cat)
    pins = [p for p in doc.pins if p.kind == "arg" and p.component in locked]
    changes = {p: render(p, locked[p.component]) for p in pins if p.start is not None}
    new = read(path, rewrite(data, changes), cat) if changes else doc
    names = {p.name for p in pins}
    out: Dict[str, str] = {}
    for var in new.variables:  # the first declaration wins: the global one, else the first stage's
        if var.kind == "arg" and var.name in names and var.value is not None:
            out.setdefault(var.name, var.value)
    for p in pins:  # `ARG VLLM_VERSION` with no default: the lock supplies it whole
        if p.name not in out and p.start is None:
            out[p.name] = render(p, locked[p.component])
    return out, new


def glibc_of(doc) -> str:
    """The glibc of the OS the file's first external base image names (rules/os.toml), else manylinux_2_28's."""
    from aligner.know import facts

    base = next((s.image for s in doc.stages if s.parent is None), "")
    row = facts.os_of(base)
    return row["glibc"] if row else DEFAULT_GLIBC


def base_refs(path: str, cat: Catalog) -> Tuple[Optional[str], Optional[str], int]:
    """The ARGs that name the first external FROM image: (image-or-repository ARG, tag ARG, line)."""
    return _base_refs(read(path, read_bytes(path), cat))


def _base_refs(doc) -> Tuple[Optional[str], Optional[str], int]:
    for stage in doc.stages:
        if stage.parent is not None:
            continue
        refs = _ARG_REF.findall(stage.written)
        if stage.written.startswith("$") and refs:
            rest = _ARG_REF.sub("", stage.written, count=1)
            tag_arg = refs[1] if len(refs) > 1 and rest.startswith(":") else None
            return refs[0], tag_arg, stage.line
        return None, None, stage.line
    return None, None, 1


def probes_for(locked: Dict[str, str], cat: Catalog) -> List[dict]:
    out = []
    for name in sorted(locked):
        comp = cat.components.get(name)
        probe = comp.probe_dict if comp else {}
        kind = probe.get("kind")
        if kind in ("python", "cuda"):
            out.append({"component": name, "kind": kind})
        elif kind == "distribution":
            names = [probe["name"]] + [d for d in comp.pip if d != probe["name"]]
            out.append({"component": name, "kind": kind, "names": names})
        elif kind == "command":
            out.append({"component": name, "kind": kind, "argv": list(probe["argv"])})
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.") or "image"


def targets(lock_data: dict, root: Path, cat: Catalog, contexts: Dict[str, str], only: Optional[List[str]] = None,
            platforms: Optional[List[str]] = None, overrides: Optional[Dict[str, str]] = None,
            lock_path: str = "lock", raw=None, passed=None) -> List[Target]:
    """The builds of the lock's images (one per image and platform); `raw(path)` gives a Dockerfile's bytes
    as the run read them (a workspace's); `passed(path)` the known build args the repository's own build
    scripts pass that Dockerfile, which the build passes too (the lock's values win over them)."""
    images = {img["name"]: img for img in lock_data.get("image", [])}
    unknown = [n for n in (only or []) if n not in images]
    if unknown:
        raise InputError(str(root), None, f"no image {unknown[0]!r} in the lock (images: {', '.join(sorted(images))})")
    out = []
    for name in sorted(only or images):
        img = images[name]
        locked = {k: str(v) for k, v in img.get("pins", {}).items()}
        for comp, value in locked.items():
            scheme = cat.components[comp].scheme if comp in cat.components else "pep440"
            if not versions.is_plain_version(value, scheme):
                raise InputError(lock_path, None, f"image {name!r}: {comp} = {value!r} is not a version; "
                                                  f"refusing to pass it to a build (run `aligner lock`)")
        files = list(img.get("dockerfiles") or [])
        if not files:
            raise InputError(str(root), None, f"image {name!r} has no dockerfiles in the lock; run `aligner lock`")
        # what each Dockerfile takes from the lock, and the FROM ARGs of a later one: the same on every platform
        locked_docs = [_locked_doc(str(root / rel), locked, cat, raw) for rel in files]
        files_args = [args for args, _ in locked_docs]
        refs = [None] + [_base_refs(doc) for _, doc in locked_docs[1:]]  # FROM lines: the lock changes ARGs only
        for i, ref in enumerate(refs[1:], 1):
            if ref[0] is None:
                raise InputError(str(root / files[i]), ref[2], f"FROM names its image literally, so verify cannot "
                                                               f"build it on {files[i - 1]}: take the image from an "
                                                               f"ARG (FROM ${{BASE_IMAGE}})")
        probes = probes_for(locked, cat)
        for plat in platforms or img.get("platforms") or ["linux/amd64"]:
            arch = plat.split("/")[-1]
            steps: List[Step] = []
            for i, rel in enumerate(files):
                last = i == len(files) - 1
                tag = f"aligner-verify/{_slug(name)}:{arch}" if last else f"aligner-verify/{_slug(name)}-{i}:{arch}"
                args = {**(passed(str(root / rel)) if passed else {}), **files_args[i]}
                base_args: Dict[str, str] = {}
                if steps:
                    image_arg, tag_arg, _line = refs[i]
                    repo, _, ref = steps[-1].tag.rpartition(":")
                    base_args = {image_arg: steps[-1].tag} if tag_arg is None else {image_arg: repo, tag_arg: ref}
                args.update(overrides or {})
                args.update(base_args)
                steps.append(Step(rel, tag, args, base_args))
            out.append(Target(name, plat, contexts.get(name, "."), steps, locked, probes, glibc_of(locked_docs[0][1])))
    return out
