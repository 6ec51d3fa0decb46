"""`aligner fix`: bring every pin to the lock, as value-byte edits, safe or unsafe.

Safe: a pin moved to the version the lock proves (a CUDA moved within its major
too, either way). Unsafe (applied only with --unsafe-fixes): a CUDA or Python
major change, a downgrade of anything else, a pre-release.
Files are written atomically (temporary file in the same directory, fsync,
rename, mode kept), never through a symlink that leaves the repository, and
never when the file changed on disk since it was read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Optional

from packaging.version import InvalidVersion, Version

from aligner.know import ngc
from aligner.know.components import Catalog
from aligner.read.dockerfile import Pin, read
from aligner.base.errors import InputError
from aligner.base.paths import display
from aligner.read.rewrite import RewriteError, render, rewrite
from aligner.know.versions import unsafe_move


@dataclass
class Edit:
    pin: Pin
    image: str
    before: str  # version (or value, when it had none) before
    after: str  # the locked version
    text: str  # the bytes written at the pin's span
    why: str
    unsafe: Optional[str] = None  # the reason it is unsafe, or None
    aux: bool = False  # follows from another edit (a digest dropped), reported under `left`


@dataclass
class FilePlan:
    path: str
    old: bytes
    new: bytes = b""
    edits: List[Edit] = field(default_factory=list)  # the ones applied to `new`
    skipped: List[Edit] = field(default_factory=list)  # unsafe ones left out
    left: List[str] = field(default_factory=list)  # what cannot be fixed, and why
    wants: Dict[tuple, Dict[str, str]] = field(default_factory=dict)  # span -> image -> version


@dataclass
class Plan:
    files: List[FilePlan]
    lock_note: Optional[str]  # "lock/aligner.lock is stale: using a lock computed in memory"
    matrix: Dict[str, List[tuple]]  # image -> [(component, before, after, why)]
    # the lock file, its bytes now (None: missing) and once the edits are written (None: not written)
    image_files: Dict[str, List[str]] = field(default_factory=dict)  # image -> its Dockerfiles' paths
    lock_path: Optional[str] = None
    lock_old: Optional[bytes] = None
    lock_new: Optional[bytes] = None
    conflicts: List[tuple] = field(default_factory=list)  # (image, lines) of images with no aligned set

    def changed(self) -> List[FilePlan]:
        return [f for f in self.files if f.new != f.old]

    def applied(self) -> List[Edit]:
        """The edits written (or, in a dry run, to be written): a digest dropped with its tag is part of the tag's."""
        return [e for f in self.files for e in f.edits if not e.aux]

    def held(self) -> List[Edit]:
        return [e for f in self.files for e in f.skipped]

    def left(self) -> List[str]:
        return list(dict.fromkeys(x for f in self.files for x in f.left))  # a file two images share says it once

    def lock_changes(self) -> bool:
        return self.lock_new is not None and self.lock_new != self.lock_old


def plan(ws, outcome, cat: Catalog, unsafe: bool, lock_note: Optional[str], only: Optional[List[str]] = None) -> Plan:
    """Edits that bring the Dockerfiles of every locked image to its locked versions (the files as the
    workspace `ws` read them)."""
    cfg = ws.cfg
    by_path: Dict[str, FilePlan] = {}
    matrix: Dict[str, List[tuple]] = {}
    image_files: Dict[str, List[str]] = {}
    for li in outcome.locked:
        name = li.input.config.name
        image_files[name] = [str(cfg.root / rel) for rel in li.input.config.dockerfiles]
        rows = []
        prob = li.input.problem
        for comp, choice in sorted(li.result.choices.items()):
            cur = {"python": prob.python, "cuda": prob.cuda}.get(comp) or prob.current.get(comp)
            rows.append((comp, cur.version if cur else _unpinned(li.input.pins, comp), choice.version, li.why[comp]))
        matrix[name] = rows
        targets = {comp: (choice.version, li.why[comp]) for comp, choice in li.result.choices.items()}
        for rel in li.input.config.dockerfiles:
            path = str(cfg.root / rel)
            if only and os.path.abspath(path) not in only:
                continue
            doc = ws.parsed(path, cat)
            # a value a build script passes is written where it is set: that script is edited, not the Dockerfile
            for where, view in _by_file(doc, path):
                fp = by_path.get(where)
                if fp is None:
                    _inside(where, cfg.root)
                    fp = by_path[where] = FilePlan(where, ws.raw(where))
                add_edits(fp, rel if where == path else display(where), targets, name, unsafe, cat, view,
                          li.input.config.platforms)
    _hold_back(by_path.values())
    for fp in by_path.values():
        finish(fp)
    return Plan(sorted(by_path.values(), key=lambda f: f.path), lock_note, matrix, image_files)


def _by_file(doc, path: str):
    """(file, the Dockerfile as seen from it): its own pins and variables, then per build script the pins whose
    values it passes (only their values: a tag variable of a script is not rebuilt)."""
    from dataclasses import replace as copy

    groups: Dict[str, List[Pin]] = {}
    for p in doc.pins:
        groups.setdefault(p.path, []).append(p)
    yield path, copy(doc, pins=groups.pop(doc.path, []),
                     variables=[v for v in doc.variables if v.span is None or v.span.path == doc.path])
    for where, pins in groups.items():
        yield where, copy(doc, pins=pins, variables=[])


def _hold_back(files) -> None:
    """An image with an unsafe change left out keeps every other change too: the lock is one aligned set,
    and a part of it (flashinfer moved to what the held-back vllm needs, a tag naming versions not
    written) would leave the image misaligned in a new way."""
    held = {e.image for fp in files for e in fp.skipped}
    for fp in files:
        keep = []
        for e in fp.edits:
            if e.image not in held:
                keep.append(e)
            elif e.aux:  # a digest dropped for a tag that now stays
                fp.left = [x for x in fp.left if f":{e.pin.line}: dropped the digest" not in x]
            else:
                fp.skipped.append(replace(e, unsafe=e.unsafe or "held back with the unsafe changes of image "
                                                                 f"{e.image}, so that it is not half aligned"))
        fp.edits = keep


def add_edits(fp: FilePlan, rel: str, targets: Dict[str, tuple], image: str, unsafe: bool, cat: Catalog,
              doc=None, platforms=("linux/amd64",)) -> None:
    """Edits of one file that bring its pins to `targets` (component -> (version, why)).

    Decisions are per value span, since an ARG and the lines that use it share one:
    a span under a FROM digest is left alone, and so is a span that two images of
    the repository want at different versions (`finish` settles those).
    """
    doc = doc or read(fp.path, fp.old, cat)
    pins = [p for p in doc.pins if p.component in targets and p.form != "range"]
    git = {(p.start, p.end): p for p in pins if p.kind == "git"}  # an ARG a `git checkout` uses is a git ref
    digests = {}  # value span -> the digest that pins the image it names
    for pin in pins:
        if pin.kind == "from" and pin.start is not None:
            found = _digest(fp.old, pin)
            if found:
                digests[(pin.start, pin.end)] = found
    for pin in pins:
        version, why = targets[pin.component]
        span = (pin.start, pin.end)
        if pin.start is not None:
            fp.wants.setdefault(span, {})[image] = version
        if pin.version is not None and _same(pin.version, version, prefix=pin.component == "cuda"):
            continue
        if pin.start is None and pin.kind == "git" and pin.form == "empty":
            fp.left.append(f"{rel}:{pin.line}: {pin.name} is cloned with no ref; add `--branch v{version}` to the clone")
            continue
        if pin.start is None:
            fp.left.append(f"{rel}:{pin.line}: {pin.component} is assembled from several places; set {version} by hand")
            continue
        if pin.form in ("local", "constrained"):
            continue  # the image's own wheel, or a constraints file aligner does not read, decides it
        if pin.form in ("dynamic", "unset"):
            made = "is computed while the image builds" if pin.form == "dynamic" else "has no value in the file"
            fp.left.append(f"{rel}:{pin.line}: {pin.via or pin.name} {made} ({pin.value}); aligner never writes over "
                           f"it: set {pin.component} {version} where the value comes from")
            continue
        if pin.form == "commit":
            fp.left.append(f"{rel}:{pin.line}: {pin.via or pin.name} holds a commit; a commit for {pin.component} "
                           f"{version} (or its tag) is yours to choose")
            continue
        if any((e.pin.start, e.pin.end) == span for e in fp.edits + fp.skipped):
            continue  # an ARG and the pip line using it share one value
        before = pin.version if pin.form == "version" else None
        risk = unsafe_move(pin.component, before, version)
        if pin.component.startswith("ngc-") and before and not risk:
            risk = ngc.major_change(pin.component, before, version)
        edit = Edit(pin, image, before or (pin.value or '""'), version, render(git.get(span, pin), version), why, risk)
        (fp.edits if (edit.unsafe is None or unsafe) else fp.skipped).append(edit)
        if span in digests and edit in fp.edits:
            start, end, text = digests[span]
            gone = replace(pin, value=text, start=start, end=end, line=_line_of(fp.old, start))
            fp.edits.append(Edit(gone, image, text, "", "", "the digest pinned the old tag", None, aux=True))
            fp.left.append(f"{rel}:{gone.line}: dropped the digest of the old tag ({text[:19]}…); pin the new "
                           "image's digest again once it is built or pulled")
    _rebuild_tags(fp, doc, targets, image, cat)
    _variants(fp, rel, doc, targets, image, cat, platforms)


def _torch_build(fp: FilePlan, rel: str, pin: Pin, targets: Dict[str, tuple], image: str, platforms) -> None:
    """The cuXYZ of the PyTorch index (or --torch-backend) a torch comes from, moved to the build of the locked
    torch for the lock's CUDA (rules/torch_builds.toml)."""
    from aligner.know import torchbuilds

    cuda = targets["cuda"][0]
    torch = targets.get("torch", (pin.version,))[0] or pin.version
    have = torchbuilds.builds(torch, platforms) if torch else None
    build = torchbuilds.for_cuda(have, cuda) if have else None
    if build is not None and cuda_tuple_of(build) == cuda_tuple_of(pin.cuda):
        return
    if pin.cuda_at is None or pin.cuda_at[0] != fp.path or build is None:
        if build is None and cuda_tuple_of(pin.cuda)[0] == cuda_tuple_of(cuda)[0]:
            return  # the index's build still fits the lock's CUDA, and aligner knows no better one
        fp.left.append(f"{rel}:{pin.line}: torch comes from the cu{torchbuilds.tag(pin.cuda)} index, the lock's CUDA is "
                       f"{cuda}: point it at " + (f"cu{torchbuilds.tag(build)}" if build else "a build for it")
                       + " by hand")
        return
    _, start, end = pin.cuda_at
    at = replace(pin, component="torch index", value=fp.old[start:end].decode(), start=start, end=end)
    if not any((e.pin.start, e.pin.end) == (start, end) for e in fp.edits + fp.skipped):
        fp.edits.append(Edit(at, image, f"cu{torchbuilds.tag(pin.cuda)}", f"cu{torchbuilds.tag(build)}",
                             torchbuilds.tag(build), f"torch {torch}'s build for the lock's CUDA {cuda} "
                             "(rules/torch_builds.toml)", None))


def cuda_tuple_of(text: str) -> tuple:
    from aligner.know.versions import cuda_tuple

    return cuda_tuple(text)[:2]


def _variants(fp: FilePlan, rel: str, doc, targets: Dict[str, tuple], image: str, cat: Catalog, platforms=()) -> None:
    """A distribution built for one CUDA major (nixl-cu12) renamed for the lock's CUDA (nixl-cu13), where the
    index has that build of the same release."""
    from aligner.know.snapshot import Snapshot
    from aligner.know.versions import cuda_tuple, variant_major

    if "cuda" not in targets:
        return
    major = cuda_tuple(targets["cuda"][0])[0]
    for v in doc.variants:
        if not v.conditional and v.major != major and v.path == fp.path:
            renamed = v.name.replace(f"cu{v.major}", f"cu{major}").replace(f"cuda{v.major}x", f"cuda{major}x")
            fp.left.append(f"{rel}:{v.line}: {v.name} is built for CUDA {v.major}, the lock's CUDA is "
                           f"{targets['cuda'][0]}: install {renamed} (aligner knows no release of it to write)")
    for pin in doc.pins:
        if pin.component == "torch" and pin.kind == "pip" and pin.cuda not in (None, "cpu") and not pin.conditional:
            _torch_build(fp, rel, pin, targets, image, platforms)
        found = variant_major(pin.name) if pin.kind == "pip" and pin.start is not None and not pin.conditional else None
        if not found or found[0] == major or pin.path != fp.path:
            continue
        renamed = pin.name[:found[1]] + str(major) + pin.name[found[2]:]
        line_start = _line_start(fp.old, pin.line)
        at = fp.old.rfind(pin.name.encode(), line_start, pin.start)
        has = Snapshot.load().release(renamed, pin.version) if pin.version else None
        if at < 0 or has is None:
            fp.left.append(f"{rel}:{pin.line}: {pin.name} is built for CUDA {found[0]}, the lock's CUDA is "
                           f"{targets['cuda'][0]}: install {renamed} (aligner knows no {renamed} {pin.version})")
            continue
        name_pin = replace(pin, component=f"{pin.component} variant", value=str(found[0]), start=at + found[1],
                           end=at + found[2])
        edit = Edit(name_pin, image, pin.name, renamed, str(major),
                    f"the build of {pin.component} {pin.version} for the lock's CUDA {targets['cuda'][0]}", None)
        if not any((e.pin.start, e.pin.end) == (name_pin.start, name_pin.end) for e in fp.edits + fp.skipped):
            fp.edits.append(edit)


def _digest(data: bytes, pin: Pin):
    """(start, end, text) of the `@sha256:…` that follows the tag holding this pin, if any."""
    for line in dict.fromkeys((pin.line, pin.use_line)):
        m = list(re.finditer(rb"@sha256:[0-9a-f]{64}", _raw_line(data, line)))
        if len(m) == 1:
            offset = _line_start(data, line)
            return offset + m[0].start(), offset + m[0].end(), m[0].group(0).decode()
    return None


def _rebuild_tags(fp: FilePlan, doc, targets: Dict[str, tuple], image: str, cat: Catalog) -> None:
    """Image-tag ARGs that encode versions (v0.10.2-nixl-0.7.1-20251123) rebuilt from the targets."""
    from aligner.know import tags

    known = tags.names(cat)
    engines = [c for c in cat.with_role("engine") if any(p.component == c and p.form == "version" for p in doc.pins)]
    for var in doc.variables:
        if not var.value or not tags.is_tag_variable(var.name, cat):
            continue
        found = tags.claims(var.value, known, engines[0] if len(engines) == 1 else None)
        new = var.value
        for comp, version, start, end in sorted(found, key=lambda c: -c[2]):
            if comp in targets and not _same(version, targets[comp][0]):
                old = var.value[start:end]
                prefix = old[0] if old[:1] in ("v", "V") and old[1:2].isdigit() else ""
                new = new[:start] + prefix + targets[comp][0] + new[end:]
        if new == var.value:
            continue
        s = var.span  # the value's own bytes, on its declaration's line, written as they read
        if s is None or not s.exact or s.line != var.line or fp.old[s.start:s.end] != var.value.encode():
            fp.left.append(f"{display(fp.path)}:{var.line}: {var.name} encodes versions; rebuild it by hand as {new}")
            continue
        pin = Pin(fp.path, "image-tag", "arg", var.name, var.value, None, "moving", var.line, s.column, s.start,
                  s.end, var.stage)
        fp.edits.append(Edit(pin, image, var.value, new, new, "rebuilt from the lock's versions", None))


def _line_start(data: bytes, line: int) -> int:
    """Byte offset of the first byte of a 1-based line."""
    return sum(len(x) + 1 for x in data.split(b"\n")[: line - 1])


def _raw_line(data: bytes, line: int) -> bytes:
    lines = data.split(b"\n")
    return lines[line - 1] if 0 < line <= len(lines) else b""


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def finish(fp: FilePlan) -> FilePlan:
    for span, wants in fp.wants.items():
        if len({Version(v) for v in wants.values()}) > 1:  # one file, two images, two versions: neither wins
            fp.edits = [e for e in fp.edits if (e.pin.start, e.pin.end) != span]
            fp.skipped = [e for e in fp.skipped if (e.pin.start, e.pin.end) != span]
            said = ", ".join(f"{v} in image {i}" for i, v in sorted(wants.items()))
            fp.left.append(f"{display(fp.path)}: one value is wanted at {said}; one Dockerfile cannot hold both")
    fp.wants = {}
    for edits in (fp.edits, fp.skipped):  # in file order, however the pins were found
        edits.sort(key=lambda e: (e.pin.line, e.pin.column))
    try:
        fp.new = rewrite(fp.old, [(e.pin, e.text) for e in fp.edits])
    except RewriteError as exc:
        raise InputError(fp.path, None, f"cannot rewrite: {exc}") from None
    return fp


def _same(a: str, b: str, prefix: bool = False) -> bool:
    """Equal versions; a local build label on one side only (2.10.0+cu130 against the lock's 2.10.0) is
    the same release, and the label (which build) is the Dockerfile's to keep. With `prefix` (CUDA), a
    value written at a lower precision agrees with every release it names: 12.8 with 12.8.1, and a tag
    such as `cuda12.8` keeps the shape its repository uses."""
    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return a == b
    if prefix and len(va.release) < len(vb.release) and vb.release[:len(va.release)] == va.release:
        return True
    return va == vb or (not (va.local and vb.local) and va.public == vb.public)


def _unpinned(pins: List[Pin], comp: str) -> str:
    p = next((p for p in pins if p.component == comp), None)
    return f"({p.form})" if p else NOT_PINNED


NOT_PINNED = "(not pinned)"  # the lock takes it from another component's requirements


def _inside(path: str, root: Path) -> None:
    from aligner.read.discover import inside

    if not inside(path, root):
        raise InputError(path, None, "is a symlink that leads out of the repository: not touching it")


def _read_inside(path: str, root: Path) -> bytes:
    _inside(path, root)
    with open(path, "rb") as fh:
        return fh.read()


def apply(p: Plan, root: Path) -> List[str]:
    """Write every changed file, all or none (Ctrl-C included); a file changed since it was read is refused."""
    from aligner.base.atomic import write_together

    for fp in p.changed():  # every file first: a change found midway must not leave half a fix
        if _read_inside(fp.path, root) != fp.old:
            raise InputError(fp.path, None, "changed on disk since aligner read it: nothing written; run fix again")
    write_together((Path(os.path.realpath(fp.path)), fp.new) for fp in p.changed())
    return [fp.path for fp in p.changed()]


def target(ws, cat: Catalog, snap):
    """(outcome, prefer, note): the lock that fix brings the files to (aligner.decide.lock.target), and
    a note when it was computed in memory because the one on disk is missing or stale."""
    from aligner.decide import lock

    outcome, prefer, state = lock.target(ws, cat, snap)
    note = state and (f"{display(ws.cfg.lock_path())} is {state}: fixing to a lock computed in memory "
                      "(run `aligner lock`)")
    return outcome, prefer, note
