"""`aligner report`: the version matrix of the locked images, as Markdown or JSON.

One row per image of lock/aligner.lock: its platforms, the locked Python,
CUDA, torch, engine (vllm / sglang / tensorrt-llm), flashinfer, NIXL and any
other locked component, and for each of its target GPUs whether the image can
run there. That verdict comes from facts in rules/ only:

- the GPU's compute capability (rules/gpus.toml);
- when the image's Dockerfiles set an arch list (TORCH_CUDA_ARCH_LIST,
  CUDA_ARCH_LIST, CMAKE_CUDA_ARCHITECTURES, ...): whether a target of it that
  the locked CUDA can compile runs on that compute capability
  (aligner.know.archs; rules/cuda.toml [[arch]]);
- without one: whether the CUDA release compiles for a compute capability that
  runs on the GPU (rules/cuda.toml [[arch]]);
- when the image's config names its hosts' `driver`: whether it is at least
  the one the locked CUDA needs (rules/cuda.toml [[driver]]).

The output is sorted and has no timestamp: the same lock and rules give the
same bytes, so a generated file can be checked in CI (`--check`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from aligner.know import facts
from aligner.know import archs
from aligner.read.config import Config
from aligner.know.versions import cuda_minor, cuda_tuple

FORMAT = 1
# the fixed columns after `platforms`: (title, lock component); the engine column comes after torch
FIXED = (("python", "python"), ("cuda", "cuda"), ("torch", "torch"), ("engine", None),
         ("flashinfer", "flashinfer-python"), ("nixl", "nixl"))


def engines() -> Tuple[str, ...]:
    """The components that serve the model (role "engine" in rules/components.toml)."""
    from aligner.know.components import catalog

    return catalog().with_role("engine")


@dataclass(frozen=True)
class ArchList:
    """A CUDA arch list an image's Dockerfile sets (its default value)."""

    name: str
    value: str
    path: str  # relative to the repository root
    line: int
    targets: Tuple[archs.Target, ...]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Verdict:
    gpu: str
    compute: Optional[str]  # None: not in rules/gpus.toml
    runs: Optional[bool]  # None: the facts in rules/ do not say
    short: str  # for the table cell
    reason: str  # the whole sentence, with where each fact comes from


@dataclass
class ImageRow:
    name: str
    dockerfiles: List[str]
    platforms: List[str]
    pins: Dict[str, str]
    driver: Optional[str]  # the hosts' driver, from the config
    arch_lists: List[ArchList] = field(default_factory=list)
    gpus: List[Verdict] = field(default_factory=list)

    @property
    def engines(self) -> List[str]:
        return [e for e in engines() if e in self.pins]

    @property
    def others(self) -> List[str]:
        shown = {c for _, c in FIXED if c} | set(engines())
        return sorted(c for c in self.pins if c not in shown)


@dataclass
class Matrix:
    lock: str  # the lock's path, relative to the repository root
    images: List[ImageRow]


def build(cfg: Config, data: dict, parsed) -> Matrix:
    """The matrix of a read lock (aligner.decide.lock.read) and the config it belongs to; `parsed(path)`
    gives a Dockerfile as the run read it (a workspace's)."""

    rows = []
    for img in sorted(data.get("image", []), key=lambda i: str(i.get("name", ""))):
        name = str(img.get("name", ""))
        conf = cfg.images.get(name)
        gpus = list(img.get("gpus", []) or (conf.gpus if conf else ()))
        files = [str(d) for d in img.get("dockerfiles", [])]
        row = ImageRow(name, files, list(img.get("platforms", [])),
                       {str(k): str(v) for k, v in img.get("pins", {}).items()}, conf.driver if conf else None)
        seen = set()
        for rel in files:
            for var in parsed(str(cfg.root / rel)).variables:
                if var.value is None or not archs.ARCH_VARIABLES.fullmatch(var.name):
                    continue
                targets, _ = archs.parse(var.value)  # entries that are no architecture: AL006 says so
                if targets and var.value not in seen:  # an ENV that repeats an ARG's list is one list
                    seen.add(var.value)
                    row.arch_lists.append(ArchList(var.name, var.value, rel, var.line, tuple(targets)))
        row.gpus = [judge(g, row.pins.get("cuda"), row.arch_lists, row.driver) for g in gpus]
        rows.append(row)
    return Matrix(os.path.relpath(cfg.lock_path(), cfg.root).replace(os.sep, "/"), rows)


def _minor(cuda: str) -> Optional[str]:
    try:
        return cuda_minor(cuda)
    except ValueError:  # a hand-edited lock
        return None


def _runs_on(t: archs.Target, compute: str) -> str:
    if (t.major, t.minor) == archs.compute_tuple(compute) and not t.ptx:
        return f"has {t.text}"
    return f"has {t.text}, which {'JIT-compiles' if t.ptx else 'runs'} on {compute}"


def judge(gpu: str, cuda: Optional[str], arch_lists: List[ArchList], driver: Optional[str]) -> Verdict:
    """Whether an image with this CUDA, arch lists and host driver runs on the GPU, and why."""
    from packaging.version import Version

    row = facts.gpu(gpu)
    if row is None:
        return Verdict(gpu, None, None, "not in rules/gpus.toml", f"{gpu} is not a GPU of rules/gpus.toml")
    compute = row["compute"]
    cc = archs.compute_tuple(compute)
    if not cuda:
        return Verdict(gpu, compute, None, "no CUDA locked", "the lock has no CUDA for this image")
    minor = _minor(cuda)
    if minor is None:
        return Verdict(gpu, compute, None, "CUDA not a version", f"the lock's CUDA {cuda!r} is not a CUDA version")
    no: List[Tuple[str, str]] = []
    yes: List[str] = []
    unknown: List[Tuple[str, str]] = []
    arow = facts.arch_row(cuda)
    floor = facts.driver_floor(cuda) if driver else None
    if floor and Version(floor[0]) > Version(driver):
        no.append((f"driver {driver} < {floor[0]}",
                   f"CUDA {cuda} needs a Linux driver >= {floor[0]} ({floor[1]}), the hosts have {driver} (config)"))
    elif floor:
        yes.append(f"the hosts' driver {driver} (config) is at least the {floor[0]} CUDA {cuda} needs ({floor[1]})")
    for al in arch_lists:
        quoted = f"{al.name}={json.dumps(al.value)} ({al.where})"
        covering = [t for t in al.targets if t.covers(cc)]
        usable = [t for t in covering if archs.compilable(t, arow) is not False]
        if not covering:
            no.append((f"{al.name} leaves out {compute}", f"{quoted} leaves out compute capability {compute}"))
        elif not usable:
            names = ", ".join(t.text for t in covering)
            no.append((f"CUDA {minor} cannot compile {names}",
                       f"{quoted} covers {compute} only with {names}, which CUDA {minor} cannot compile "
                       "(rules/cuda.toml)"))
        else:
            best = max(usable, key=lambda t: ((t.major, t.minor) == cc and not t.ptx, not t.ptx, t.major, t.minor))
            yes.append(f"{quoted} {_runs_on(best, compute)}")
    if not arch_lists:
        if arow is None:
            unknown.append((f"no arch facts for CUDA {minor}",
                            f"rules/cuda.toml lists no architectures for CUDA {minor}"))
        else:
            targets = [archs.Target(c, *archs.compute_tuple(c), "", False) for c in arow["compute"]]
            covering = [t for t in targets if t.covers(cc)]
            if covering:
                best = max(covering, key=lambda t: (t.major, t.minor))
                how = "" if best.compute == compute else f", which runs on {compute}"
                yes.append(f"CUDA {minor} compiles for {best.compute}{how} (rules/cuda.toml)")
            else:
                no.append((f"CUDA {minor} cannot target {compute}",
                           f"CUDA {minor} compiles for nothing that runs on compute capability {compute}; its newest "
                           f"is {max(arow['compute'], key=archs.compute_tuple)} (rules/cuda.toml)"))
    lead = f"{gpu} is compute capability {compute} (rules/gpus.toml)"
    if no:
        return Verdict(gpu, compute, False, no[0][0], f"{lead}; " + "; ".join(r for _, r in no))
    if unknown:
        return Verdict(gpu, compute, None, unknown[0][0], f"{lead}; " + "; ".join(r for _, r in unknown))
    return Verdict(gpu, compute, True, "", f"{lead}; " + "; ".join(yes))


# ---------------------------------------------------------------- rendering

def _verdict_word(v: Verdict) -> str:
    return {True: "yes", False: "no", None: "unknown"}[v.runs]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def other_columns(m: Matrix) -> List[str]:
    return sorted({c for r in m.images for c in r.others})


def to_markdown(m: Matrix) -> str:
    others = other_columns(m)
    head = ["image", "platforms"] + [t for t, _ in FIXED] + others + ["runs on"]
    out = ["# Image versions", "",
           f"Generated by `aligner report` from `{m.lock}` and the facts in aligner's `rules/`: do not edit it "
           "by hand; regenerate it (`aligner report --output FILE`) after `aligner lock`.", ""]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for r in m.images:
        cells = [r.name, ", ".join(r.platforms)]
        for title, comp in FIXED:
            if comp is None:
                cells.append(", ".join(f"{e} {r.pins[e]}" for e in r.engines))
            else:
                cells.append(r.pins.get(comp, ""))
        cells += [r.pins.get(c, "") for c in others]
        cells.append("<br>".join(f"{v.gpu}: {_verdict_word(v)}" + (f" ({v.short})" if v.short else "")
                                 for v in r.gpus))
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    judged = [(r, v) for r in m.images for v in r.gpus]
    if judged:
        out += ["", "## Target GPUs", ""]
        out += [f"- {r.name} on {v.gpu}: {_verdict_word(v)}. {v.reason}." for r, v in judged]
    facts_used = sources(m)
    if facts_used:
        out += ["", "## Sources", ""] + [f"- {line}" for line in facts_used]
    return "\n".join(out) + "\n"


def sources(m: Matrix) -> List[str]:
    """The rules/ rows behind the verdicts: each GPU, each CUDA release's arch list and driver floor."""
    lines = []
    for name in sorted({v.gpu for r in m.images for v in r.gpus}):
        row = facts.gpu(name)
        if row:
            lines.append(f"{name}: compute capability {row['compute']}; rules/gpus.toml: {row['source']}")
    cudas = sorted({r.pins["cuda"] for r in m.images if r.gpus and _minor(r.pins.get("cuda") or "")}, key=cuda_tuple)
    for minor in sorted({cuda_minor(c) for c in cudas}, key=cuda_tuple):
        arow = facts.arch_row(minor)
        if arow:
            lines.append(f"CUDA {minor}: compiles for {', '.join(arow['compute'])}; rules/cuda.toml [[arch]]: "
                         f"{arow['source']}")
        else:
            lines.append(f"CUDA {minor}: rules/cuda.toml lists no architectures for it")
    for cuda in cudas:
        floor = facts.driver_floor(cuda)
        if floor:
            lines.append(f"CUDA {cuda}: Linux driver >= {floor[0]}; {floor[1]}")
    return lines


def _floor_json(cuda: Optional[str]) -> Optional[dict]:
    floor = facts.driver_floor(cuda) if cuda else None
    return {"linux": floor[0], "source": floor[1]} if floor else None


def to_json(m: Matrix) -> str:
    doc = {
        "version": FORMAT,
        "lock": m.lock,
        "images": [{
            "name": r.name,
            "dockerfiles": r.dockerfiles,
            "platforms": r.platforms,
            "pins": dict(sorted(r.pins.items())),
            "engines": r.engines,
            "driver": r.driver,
            "cuda_driver_min": _floor_json(r.pins.get("cuda")),
            "arch_lists": [{"name": a.name, "value": a.value, "path": a.path, "line": a.line,
                            "targets": [t.text for t in a.targets]} for a in r.arch_lists],
            "gpus": [{"name": v.gpu, "compute": v.compute, "runs": v.runs, "reason": v.reason} for v in r.gpus],
        } for r in m.images],
        "sources": sources(m),
    }
    return json.dumps(doc, indent=2) + "\n"


FORMATS = {"md": to_markdown, "json": to_json}  # `aligner report --format`
