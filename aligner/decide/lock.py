"""lock/aligner.lock: the aligned versions per image, each with its reason.

TOML, written by hand so that it is sorted and deterministic: the same inputs
give the same bytes. `inputs` hashes everything the lock was computed from
(config, Dockerfiles, upstream, rules and snapshot), so `--check` notices a
changed pin even where the chosen versions would not move.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from aligner import __version__
from aligner.know.components import Catalog
from aligner.read.config import Config
from aligner.relate import problem
from aligner.base.errors import InputError
from aligner.relate.problem import ImageInput, where
from aligner.decide import pythons
from aligner.decide.resolve import Choice, Conflict, Result
from aligner.know.snapshot import Snapshot, rules_digest

FORMAT = 1


@dataclass
class LockedImage:
    input: ImageInput
    result: Result
    why: Dict[str, str]
    changes: Dict[str, str]  # component -> "Dockerfile:16 pins 0.1.8; ..." where the lock moves a pin


def _said(c, parent) -> str:
    """One constraint as a sentence, with where it comes from."""
    if parent is None:
        return f"{c.source} {c.verb} {c.text}"
    return f"{c.source} requires {c.text}" + ("" if "rules/" in c.source else " (index metadata)")


@dataclass(frozen=True)
class Reason:
    """Why a version was chosen, as a claim that can be checked against the constraints."""
    kind: str  # "image" (its own Python/CUDA), "pinned", "lock", "kept", "newest", "fits"
    text: str
    constraint: Optional[tuple] = None  # (Constraint, parent) for "pinned"


def explain(choice: Choice, image: ImageInput) -> Reason:
    """The constraint that decided the chosen version, or the preference that did."""
    if choice.component in ("python", "cuda", "ucx") or choice.component.startswith("ngc-"):
        cur = _own(image, choice.component)
        if cur.version != choice.version:
            broken = "; ".join(_said(c, p) for c, p in _broken(choice, cur.version)) or choice.moved_why
            return Reason("moved", f"the smallest move from the image's {cur.version} ({cur.source}) that meets: "
                                   + (broken or "every constraint"))
        n = sum(1 for c, _ in choice.constraints if str(c.specifier))
        within = f", within {n} constraint{'s' if n != 1 else ''}" if n else ""
        if choice.component.startswith("ngc-") or choice.component == "ucx":
            return Reason("kept", f"kept the pin of {cur.source}{within}")
        return Reason("image", f"the image's {choice.component} ({cur.source}){within}")
    exact = [(c, p) for c, p in choice.constraints if str(c.specifier).startswith("==")]
    if exact:
        c, parent = sorted(exact, key=lambda cp: (cp[1] is not None, bool(cp[0].extras), cp[0].source))[0]
        return Reason("pinned", _said(c, parent), (c, parent))
    current = image.problem.current.get(choice.component)
    ranges = sorted({f"{c.text} ({c.source})" for c, _ in choice.constraints if str(c.specifier)})
    within = f", within {'; '.join(ranges)}" if ranges else ""
    if image.problem.prefer.get(choice.component) == choice.version and not (current and current.version == choice.version):
        # the lock on disk, written for these same inputs, chose it: its reason still holds, and a lock
        # written again from it is the same bytes (`lock --upgrade-package x`, then `lock --check`)
        return Reason("lock", image.problem.prefer_why.get(choice.component) or f"kept the existing lock's version{within}")
    if current and current.version == choice.version:
        return Reason("kept", f"kept the pin of {current.source}{within}")
    if choice.passed_over is None:
        return Reason("newest", f"newest release{within or ' (nothing constrains it)'}")
    why = f": {choice.passed_over_why}" if choice.passed_over_why else ""
    return Reason("fits", f"newest release that fits the rest of the image{within} ({choice.passed_over} is newer"
                          f"{why})")


def reason(choice: Choice, image: ImageInput) -> str:
    return explain(choice, image).text


def change(choice: Choice, image: ImageInput, why: str) -> str:
    """Why the lock moves a Dockerfile's pin: the constraint the old value breaks."""
    from packaging.version import Version

    cur = _own(image, choice.component)
    broken = _broken(choice, cur.version)
    head = f"{cur.source} pins {choice.component} {cur.version}"
    if broken:
        c, parent = broken[0]
        return f"{head}, but {_said(c, parent)}"
    return f"{head}; the lock takes {choice.version}: {why}"


def _own(image: ImageInput, component: str):
    """The version the image's files give a component (its Python and CUDA too), or None."""
    prob = image.problem
    return {"python": prob.python, "cuda": prob.cuda}.get(component) or prob.current.get(component)


def _broken(choice: Choice, version: str) -> list:
    """The constraints on a choice that `version` does not meet, the files' own first."""
    from packaging.version import Version

    out = [(c, p) for c, p in choice.constraints
           if str(c.specifier) and not c.specifier.contains(Version(version), prereleases=True)]
    return sorted(out, key=lambda cp: (cp[1] is not None, cp[0].source))


def lock_image(image: ImageInput, result: Result) -> LockedImage:
    why, changes = {}, {}
    for comp, choice in result.choices.items():
        why[comp] = reason(choice, image)
        cuda, own = result.choices.get("cuda"), image.problem.cuda
        if comp.startswith("ngc-") and why[comp].endswith("meets: every constraint") and cuda and own:
            # it moved for the CUDA it brings: say what the image's CUDA did not meet
            broken = "; ".join(_said(c, p) for c, p in _broken(cuda, own.version) if not c.source.startswith(comp))
            why[comp] = why[comp].replace("that meets: every constraint", f"whose CUDA {cuda.version} meets: {broken}")
        cur = _own(image, comp)
        if cur and cur.version != choice.version:
            changes[comp] = change(choice, image, why[comp])
    for pin in image.pins:  # unpinned values the lock fills in
        if pin.component in result.choices and pin.component not in image.problem.current and pin.form != "version":
            changes.setdefault(pin.component, f"{where(pin, image.root)} leaves {pin.component} {pin.form} "
                                              f"({pin.value!r}); {why[pin.component]}")
    return LockedImage(image, result, why, changes)


def inputs_hash(cfg: Config, upstream_sha: Optional[str], raw=None, scripts=()) -> str:
    """`raw(path)` gives a Dockerfile's bytes (a workspace's, which has read them already); `scripts` are the
    build scripts whose --build-arg values the images take (Workspace.build_scripts())."""
    h = hashlib.sha256()
    h.update(f"aligner {__version__}\n".encode())
    from aligner.read.config import MAX_BYTES as CONFIG_MAX
    from aligner.read.dockerfile.reader import read_bytes
    from aligner.base.paths import read_regular

    raw = raw or read_bytes
    if cfg.path:
        h.update(_config_bytes(read_regular(cfg.path, CONFIG_MAX), cfg.path))
    for path in sorted(cfg.image_dockerfiles()):
        h.update(os.path.relpath(path, cfg.root).encode() + b"\0" + raw(path))
    for path in sorted(os.path.relpath(s, cfg.root) for s in scripts):
        h.update(b"script\0" + path.encode() + b"\0" + raw(str(cfg.root / path)))
    h.update((upstream_sha or "").encode())
    h.update(rules_digest(leave_out=("codes.toml",)))  # a rule page decides no version
    return "sha256:" + h.hexdigest()


def _config_bytes(data: bytes, path: Path) -> bytes:
    """What of the config file decides versions: all of an aligner.toml, only [tool.aligner] of a pyproject
    (its project's own version or dependencies changing leaves the lock as true as it was)."""
    if path.name != "pyproject.toml":
        return data
    from aligner.base import _toml

    try:
        table = _toml.loads(data.decode("utf-8")).get("tool", {}).get("aligner", {})
    except (UnicodeDecodeError, _toml.TOMLDecodeError):
        return data  # read_config has refused it already; hash it whole rather than guess
    return json.dumps(table, sort_keys=True, default=str).encode()


def matches_inputs(cfg: Config, data: dict, raw=None, scripts=()) -> bool:
    """Whether a read lock was written for the Dockerfiles, config and rules as they are now (taking its
    recorded upstream as is: no fetch)."""
    meta = data.get("meta", {})
    try:
        return meta.get("inputs") == inputs_hash(cfg, (meta.get("upstream") or {}).get("sha256"), raw, scripts)
    except (OSError, InputError):  # a configured Dockerfile is gone: the lock is stale
        return False


def render(cfg: Config, locked: List[LockedImage], upstream_source: Optional[str], upstream_sha: Optional[str],
           inputs: str) -> bytes:
    q = json.dumps  # a JSON string is a valid TOML basic string
    out = ["# Written by `aligner lock`; do not edit. Every version has its reason under [image.why].",
           f"version = {FORMAT}", "", "[meta]", f"generated-by = {q('aligner ' + __version__)}", f"inputs = {q(inputs)}"]
    if upstream_source:
        from aligner.read.upstream import is_release

        keep = "://" in upstream_source or is_release(upstream_source)
        src = upstream_source if keep else os.path.relpath(upstream_source, cfg.root)
        out.append(f"upstream = {{ source = {q(src)}, sha256 = {q(upstream_sha)} }}")
    for li in sorted(locked, key=lambda l: l.input.config.name):
        img = li.input.config
        out += ["", "[[image]]", f"name = {q(img.name)}",
                f"dockerfiles = [{', '.join(q(d) for d in img.dockerfiles)}]"]
        if img.extra:
            out.append(f"extra = {q(img.extra)}")
        out.append(f"platforms = [{', '.join(q(p) for p in img.platforms)}]")
        if img.gpus:
            out.append(f"gpus = [{', '.join(q(g) for g in img.gpus)}]")
        out += ["", "[image.pins]"] + [f"{_key(k)} = {q(c.version)}" for k, c in sorted(li.result.choices.items())]
        out += ["", "[image.why]"] + [f"{_key(k)} = {q(v)}" for k, v in sorted(li.why.items())]
    return ("\n".join(out) + "\n").encode("utf-8")


def _key(name: str) -> str:
    return name if all(c.isalnum() or c in "-_" for c in name) else json.dumps(name)


def read(path: Path) -> dict:
    """A lock's data, checked against the format aligner writes: a lock edited into nonsense is an error
    naming the line, never a traceback further on."""
    from aligner.base import _toml
    from aligner.base.paths import read_regular

    try:
        text = read_regular(path, 16 << 20).decode("utf-8")
        data = _toml.loads(text)
    except (UnicodeDecodeError, _toml.TOMLDecodeError) as exc:
        raise InputError(str(path), _toml.line_of(exc), f"not a readable lock: {exc}; delete it and run "
                                                                  "`aligner lock` to write a new one") from None
    problem = _shape_problem(data)
    if problem:
        image, key, message = problem
        raise InputError(str(path), _line_of(text, image, key), f"not an aligner lock of format {FORMAT}: {message}; "
                                                                "delete it and run `aligner lock` to write a new one")
    return data


_KIND = {str: "string", list: "list", dict: "table"}
_IMAGE_KEYS = {"name": str, "dockerfiles": list, "extra": str, "platforms": list, "gpus": list, "pins": dict,
               "why": dict}


def _shape_problem(data: dict) -> Optional[tuple]:
    """(image index or None, key, what is wrong) for the first thing that is not as `render` writes it."""
    if data.get("version") != FORMAT:
        return None, "version", f"`version` is {data.get('version')!r}, not {FORMAT}"
    unknown = sorted(set(data) - {"version", "meta", "image"})
    if unknown:
        return None, unknown[0], f"unknown key `{unknown[0]}`"
    meta = data.get("meta", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for k, v in meta.items() if k != "upstream"):
        return None, "meta", "`meta` must be a table of strings"
    up = meta.get("upstream")
    if up is not None and not (isinstance(up, dict) and all(isinstance(up.get(k), str) for k in ("source", "sha256"))):
        return None, "upstream", "`meta.upstream` must be { source = \"...\", sha256 = \"...\" }"
    images = data.get("image", [])
    if not isinstance(images, list):
        return None, "image", "`image` must be an array of tables ([[image]])"
    names = set()
    for n, img in enumerate(images):
        if not isinstance(img, dict):
            return n, "image", f"image {n + 1} is not a table"
        for key, kind in _IMAGE_KEYS.items():
            value = img.get(key)
            if value is None and key in ("extra", "gpus", "why"):
                continue
            if not isinstance(value, kind):
                return n, key, f"image {n + 1}: `{key}` must be a {_KIND[kind]}"
            items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
            if not all(isinstance(v, str) for v in items):
                return n, key, f"image {n + 1}: every value of `{key}` must be a string"
        extra = sorted(set(img) - set(_IMAGE_KEYS))
        if extra:
            return n, extra[0], f"image {n + 1}: unknown key `{extra[0]}`"
        if img["name"] in names:
            return n, "name", f"image {img['name']!r} is there twice"
        names.add(img["name"])
    return None


def _line_of(text: str, image: Optional[int], key: str) -> Optional[int]:
    """The line of `key` (or of its [image.KEY] table) in the lock, inside the image-th [[image]] if given."""
    seen = -1
    for number, line in enumerate(text.splitlines(), 1):
        bare = line.strip()
        if bare == "[[image]]":
            seen += 1
            if image is not None and seen == image and key == "image":
                return number
        if image is not None and seen != image:
            continue
        if bare.split("=", 1)[0].strip() == key or bare in (f"[image.{key}]", f"[{key}]"):
            return number
    return None


def pins_of(data: dict) -> Dict[str, Dict[str, str]]:
    return {img["name"]: dict(img.get("pins", {})) for img in data.get("image", [])}


def whys_of(data: dict) -> Dict[str, Dict[str, str]]:
    return {img["name"]: dict(img.get("why", {})) for img in data.get("image", [])}



@dataclass
class Outcome:
    locked: List[LockedImage]
    conflicts: List[Conflict]
    text: bytes  # the lock file's bytes (only meaningful without conflicts)
    inputs: str  # the hash of everything the lock is computed from


def compute(ws, cat: Catalog, snap: Snapshot, upgrade=frozenset(),
            prefer: Optional[Dict[str, Dict[str, str]]] = None,
            said: Optional[Dict[str, Dict[str, str]]] = None) -> Outcome:
    """The lock of a workspace's images: each image's problem, resolved once. `prefer` gives versions to try
    first per image (a current lock's), `said` the reasons that lock recorded for them."""
    cfg = ws.cfg
    up = ws.upstream()
    if not cfg.images:
        raise InputError(str(cfg.path or "aligner.toml"), None, "no images configured: add [tool.aligner.images.NAME]")
    inputs = [problem.build(img, ws, up, cat, upgrade) for img in cfg.images.values()]
    for inp in inputs:
        inp.problem.prefer = dict((prefer or {}).get(inp.config.name, {}))
        inp.problem.prefer_why = dict((said or {}).get(inp.config.name, {}))
    return finish(ws, inputs, [_resolved(inp, snap, cat) for inp in inputs])


def target(ws, cat: Catalog, snap: Snapshot, upgrade=frozenset()):
    """(outcome, prefer, state): the aligned set that lock, check and fix all work towards. A lock on disk
    written for these very inputs is the decision (after `lock --upgrade-package`, its versions are
    the target, not the Dockerfiles' older pins), so its versions are preferred; a missing or stale one
    (`state`) is no promise, and the Dockerfiles' pins are preferred instead. Computed once per workspace
    state: check, fix and the report of one run share it."""
    key = ("target", frozenset(upgrade))  # the knowledge is one per process
    if key not in ws.memo:
        ws.memo[key] = _target(ws, cat, snap, upgrade)
    return ws.memo[key]


def settled(ws, outcome: "Outcome", cat: Catalog, snap: Snapshot) -> None:
    """After the lock `outcome` was written for the workspace's files as they now are, it is their target."""
    ws.memo[("target", frozenset())] = (outcome, pins_of_outcome(outcome), None)


def pins_of_outcome(outcome: "Outcome") -> Dict[str, Dict[str, str]]:
    return {li.input.config.name: {c: ch.version for c, ch in li.result.choices.items()} for li in outcome.locked}


def _target(ws, cat: Catalog, snap: Snapshot, upgrade):
    path = ws.cfg.lock_path()
    recorded = read(path) if path.exists() else None
    up = ws.upstream()
    fresh = recorded is not None and recorded.get("meta", {}).get("inputs") == inputs_hash(
        ws.cfg, up.sha256 if up else None, ws.raw, ws.build_scripts())
    prefer = pins_of(recorded) if fresh else None
    state = None if fresh else ("missing" if recorded is None else "stale")
    said = whys_of(recorded) if fresh else None
    return compute(ws, cat, snap, upgrade, prefer=prefer, said=said), prefer, state


def _resolved(inp: ImageInput, snap: Snapshot, cat: Catalog):
    try:
        return pythons.resolve_image(inp.problem, snap, cat)
    except Conflict as exc:
        return exc


def finish(ws, inputs: List[ImageInput], results: list) -> Outcome:
    """The lock of resolved images (a Result, or the Conflict it met, per input), rendered."""
    up = ws.upstream()
    locked = [lock_image(inp, r) for inp, r in zip(inputs, results) if not isinstance(r, Conflict)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    digest = inputs_hash(ws.cfg, up.sha256 if up else None, ws.raw, ws.build_scripts())
    text = render(ws.cfg, locked, up.source if up else None, up.sha256 if up else None, digest)
    return Outcome(locked, conflicts, text, digest)


def relock(ws, before: Outcome, cat: Catalog, snap: Snapshot,
           prefer: Optional[Dict[str, Dict[str, str]]] = None) -> Outcome:
    """The lock after `fix` wrote its edits into the workspace. An image whose constraints did not move
    keeps its resolution when its problem is unchanged, or when its pins now hold what was chosen (a
    resolver that prefers the current pins would choose them again); only its reasons are told anew.
    Any other image is resolved again."""
    inputs = [problem.build(img, ws, ws.upstream(), cat) for img in ws.cfg.images.values()]
    done = {li.input.config.name: li for li in before.locked}
    results = []
    for inp in inputs:
        old = done.get(inp.config.name)
        inp.problem.prefer = dict(old.input.problem.prefer if old else (prefer or {}).get(inp.config.name, {}))
        inp.problem.prefer_why = dict(old.input.problem.prefer_why) if old else {}
        if old is not None and old.input.problem.roots == inp.problem.roots and (
                _holds(old.result, inp) or _unchanged(old.input.problem, inp.problem)):
            results.append(old.result)
        else:
            results.append(_resolved(inp, snap, cat))
    return finish(ws, inputs, results)


def _unchanged(a, b) -> bool:
    return (a.current, a.python, a.cuda, a.wheels) == (b.current, b.python, b.cuda, b.wheels)


def _holds(result: Result, inp: ImageInput) -> bool:
    """Every version the image now pins (Python and CUDA too) is the one the result chose."""
    prob = inp.problem
    now = {c: cur.version for c, cur in prob.current.items()}
    now.update({name: cur.version for name, cur in (("python", prob.python), ("cuda", prob.cuda)) if cur})
    return all(c not in result.choices or result.choices[c].version == v for c, v in now.items())
