"""What a pinned value is (version, range, commit, moving, empty) and its normal form."""

from __future__ import annotations

import re
from typing import Optional

from packaging.version import InvalidVersion, Version

_COMMIT = re.compile(r"[0-9a-f]{7,40}")
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
_COMPACT_CUDA = re.compile(r"(\d{2})(\d)")

EXACT_OPS = ("==", "===")


def is_commit(text: str) -> bool:
    return bool(_COMMIT.fullmatch(text)) and (len(text) == 40 or not text.isdigit())


def strip_v(text: str) -> str:
    return text[1:] if text[:1] in ("v", "V") and text[1:2].isdigit() else text


def normalise(text: str, scheme: str = "pep440") -> Optional[str]:
    """The normal spelling of a version, or None when text is not one."""
    bare = strip_v(text.strip())
    if scheme == "cuda":
        m = _COMPACT_CUDA.fullmatch(bare)
        if m:
            return f"{m.group(1)}.{m.group(2)}"
    if scheme in ("cuda", "calver"):
        return bare if _DOTTED.fullmatch(bare) else None
    try:
        return str(Version(bare))
    except (InvalidVersion, ValueError):  # ValueError: a segment over Python's 4300-digit int limit
        return None


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*")


def is_plain_version(text: str, scheme: str = "pep440") -> bool:
    """A version and nothing else: no space, quote, `;`, `$`, backtick or newline can ride along
    into a build arg that a RUN line hands to a shell."""
    return bool(_PLAIN.fullmatch(text)) and normalise(text, scheme) is not None


def form(text: str, scheme: str = "pep440", op: Optional[str] = None) -> str:
    """version | range | commit | moving | empty."""
    if not text:
        return "empty"
    if op is not None and op not in EXACT_OPS:
        return "range"
    if is_commit(text):
        return "commit"
    return "version" if normalise(text, scheme) is not None else "moving"


def parse(text: str) -> Version:
    """A PEP 440 version, accepting a leading `v` (tags such as v0.10.2)."""
    return Version(strip_v(text.strip()))


def satisfies(version: str, specifier: str) -> bool:
    """PEP 440 containment; a pinned pre-release counts (1.1.0rc5 is a real pin).

    NGC builds such as 2.8.0a0+5228986c39 are pre-releases of 2.8.0 and do NOT
    satisfy ==2.8.0: exactly the mismatch that breaks an engine on an NGC base.
    """
    from packaging.specifiers import SpecifierSet

    return SpecifierSet(specifier).contains(parse(version), prereleases=True)


def cuda_tuple(text: str) -> tuple:
    """(major, minor[, patch]) of a CUDA version: 12.8, 12.8.1, or compact 128."""
    norm = normalise(text, "cuda")
    if norm is None:
        raise ValueError(f"not a CUDA version: {text!r}")
    return tuple(int(p) for p in norm.split("."))


def cuda_minor(text: str) -> str:
    major, minor = cuda_tuple(text)[:2]
    return f"{major}.{minor}"


def torch_cuda(version: str) -> Optional[str]:
    """The CUDA of a torch build from its local label (2.8.0+cu128 -> 12.8), if it says."""
    local = parse(version).local or ""
    m = re.fullmatch(r"cu(\d{2,3})", local)
    return normalise(m.group(1), "cuda") if m else None


# The wheels a torch build requires for its CUDA runtime: nvidia-cuda-runtime-cu12==12.8.90
# up to torch 2.10, cuda-toolkit[cudart,...]==13.0.3 from 2.11 (and the plain nvidia-cuda-runtime).
_RUNTIME = re.compile(r"nvidia-cuda-runtime(?:-cu(\d+))?|cuda-toolkit")


def runtime_cuda(requirement) -> Optional[str]:
    """The CUDA (major.minor) a wheel was built for, from its exact CUDA runtime requirement
    (a packaging Requirement), if that is what it is."""
    if not _RUNTIME.fullmatch(requirement.name.lower().replace("_", "-")):
        return None
    version = exact_version(requirement.specifier)
    return cuda_minor(version) if version else None


def runtime_major(requirement) -> Optional[str]:
    """The CUDA major a CUDA runtime requirement asks for: from its -cuNN name, else its exact version."""
    m = _RUNTIME.fullmatch(requirement.name.lower().replace("_", "-"))
    if not m:
        return None
    if m.group(1):
        return m.group(1)
    version = exact_version(requirement.specifier)
    return version.split(".")[0] if version else None


def exact_version(specifier) -> Optional[str]:
    """The version of a specifier set that is exactly one `==X`, else None."""
    items = list(specifier)
    return items[0].version if len(items) == 1 and items[0].operator == "==" else None


def unsafe_move(component: str, before: Optional[str], after: str) -> Optional[str]:
    """Why moving a pin from `before` to `after` is unsafe (a pre-release, a CUDA or Python major change,
    a downgrade), or None when it is safe."""
    try:
        new = Version(after)
    except InvalidVersion:
        return None
    if new.is_prerelease:
        return f"{after} is a pre-release"
    if before is None:
        return None
    if component in ("cuda", "python"):
        try:
            if cuda_tuple(before)[0] != cuda_tuple(after)[0]:
                return f"a {component} major change ({before} -> {after})"
            if component in ("cuda", "python"):
                # within a major the lock moved CUDA or Python to meet every constraint on it (a GPU, an arch
                # list, the hosts' driver, torch's build, Requires-Python), down as much as up
                return None
        except ValueError:
            pass
    try:
        if new < Version(before):
            return f"a downgrade ({before} -> {after})"
    except InvalidVersion:
        pass
    return None


_VARIANT = re.compile(r"-cu(\d{2})$|-cuda(\d{2})x$")


def variant_major(name: str) -> Optional[tuple]:
    """(CUDA major, start, end of its digits in the name) of a distribution built for one CUDA major:
    nixl-cu12, cupy-cuda12x; None for any other name."""
    m = _VARIANT.search(name.lower())
    if not m:
        return None
    group = 1 if m.group(1) else 2
    return int(m.group(group)), m.start(group), m.end(group)

