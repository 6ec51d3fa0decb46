"""What the probes found, set against the lock: one row per locked component."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from aligner.know import versions


@dataclass(frozen=True)
class Row:
    component: str
    locked: str
    found: Optional[str]
    ok: Optional[bool]  # None: not probed (a version only an image tag says)
    how: str  # where the found value comes from, or why there is none

    def to_json(self) -> dict:
        return {"component": self.component, "locked": self.locked, "found": self.found, "ok": self.ok,
                "how": self.how}


def same(component: str, locked: str, found: str) -> bool:
    """Python and CUDA agree on the parts both give (3.12 ~ 3.12.3; nvcc says only 12.8);
    Python packages agree on the public version (a +cu128 build label does not count)."""
    if component in ("python", "cuda"):
        scheme = "cuda" if component == "cuda" else "pep440"
        pa = (versions.normalise(locked, scheme) or locked).split(".")
        pb = (versions.normalise(found, scheme) or found).split(".")
        n = min(len(pa), len(pb))
        return pa[:n] == pb[:n]
    try:
        return Version(locked).public == Version(found).public
    except InvalidVersion:
        return locked == found


def torch_cuda(found: str, runtime: Optional[str]) -> Tuple[Optional[str], str]:
    """(the CUDA a torch build was made for, what says so): its version label (2.8.0+cu128), else
    the CUDA runtime wheel it requires (the probe's `cuda`)."""
    try:
        label = versions.torch_cuda(found)
    except InvalidVersion:
        label = None
    if label:
        return label, Version(found).local
    try:
        return (versions.runtime_cuda(Requirement(runtime)) if runtime else None), runtime or ""
    except InvalidRequirement:
        return None, runtime


def rows(locked: Dict[str, str], probed: Dict[str, dict], probes: List[dict]) -> List[Row]:
    asked = {p["component"] for p in probes}
    out = []
    for comp in sorted(locked):
        want = locked[comp]
        if comp not in asked:
            out.append(Row(comp, want, None, None, "not probed: the image tag is the only record"))
            continue
        got = probed.get(comp) or {"found": None, "how": "no answer from the probe"}
        found = got.get("found")
        out.append(Row(comp, want, found, bool(found) and same(comp, want, found), got.get("how", "")))
        if comp == "torch" and found and "cuda" in locked:
            built, label = torch_cuda(found, got.get("cuda"))
            if built:
                out.append(_torch_fit(built, locked["cuda"], label))
    return out


def _torch_fit(built: str, cuda: str, label: str) -> Row:
    """torch made for a newer CUDA than the image's toolkit, or another major, fails on the GPU."""
    b, c = versions.cuda_tuple(built)[:2], versions.cuda_tuple(cuda)[:2]
    ok = b[0] == c[0] and b[1] <= c[1]
    return Row("torch CUDA", versions.cuda_minor(cuda), built, ok, f"torch's build ({label}) against the image's CUDA")
