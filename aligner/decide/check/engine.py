"""Run the rules over Dockerfiles: read, group into images, check, suppress, select.

An unchanged repository is answered from a cache keyed by the hash of every
input (files, config, rules, snapshot, lock, upstream, selection), as ruff does.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence

from aligner import __version__
from aligner.decide.check.model import Finding, Fix, docs
from aligner.base.errors import InputError

ALL = "ALL"


@dataclass
class Settings:
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    use_cache: bool = True
    extend_ignore: Sequence[str] = ()  # added to the ignore list (the command line's, else the config's)


@dataclass
class Outcome:
    findings: List[Finding]
    errors: List[InputError]
    files: int
    cached: bool = False
    notes: List[str] = field(default_factory=list)


def selected(codes: Sequence[str], s: Settings, cfg) -> List[str]:
    select = list(s.select or cfg.select or [ALL]) + list(s.extend_select or cfg.extend_select)
    ignore = list(s.ignore or cfg.ignore) + list(s.extend_ignore)
    take = lambda code, pats: any(p == ALL or code.startswith(p.upper()) for p in pats)
    return [c for c in codes if take(c, select) and not take(c, ignore)]


def run(paths: Sequence[str], cfg, settings: Settings, ws=None) -> Outcome:
    """Check the Dockerfiles under `paths`; `ws`, a workspace, gives the bytes it has read already."""
    from aligner.read import discover
    from aligner.relate.workspace import Workspace

    ws = ws or Workspace(cfg)
    files, errors = discover.find(paths)
    files = whole_images(files, cfg)
    data: Dict[str, bytes] = {}
    for path in files:
        try:
            data[os.path.normpath(path)] = ws.raw(path)
        except InputError as exc:
            errors.append(exc)
    codes = selected(list(docs()), settings, cfg)
    errors += ws.build_errors()
    scripts = {s: ws.raw(s) for s in ws.build_scripts()}  # the --build-arg values the images take
    key = _key(cfg, {**data, **{f"script:{s}": b for s, b in scripts.items()}}, codes)
    cache = _cache_path(key) if settings.use_cache else None
    if cache and cache.exists():
        try:
            return _load(cache, errors, len(data))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a broken cache entry is recomputed
    outcome = _check(ws, data, codes, [])
    if cache:
        _store(cache, outcome)  # before the read errors join: those belong to this run's paths only
    outcome.errors = errors + outcome.errors
    return outcome


def whole_images(files: List[str], cfg) -> List[str]:
    """The files, and with each one that belongs to a configured image the image's other Dockerfiles: an
    image is checked whole (a Python set in its base file breaks a pin in its engine file), so a hook
    given one changed file reports what `aligner check` reports for its image, in every file of it."""
    given = {os.path.abspath(f) for f in files}
    out = list(files)
    for image in cfg.images.values():
        members = [cfg.root / d for d in image.dockerfiles]
        if any(os.path.abspath(m) in given for m in members):
            for m in members:
                if os.path.abspath(m) not in given and m.is_file():
                    given.add(os.path.abspath(m))
                    out.append(os.path.relpath(m))
    return out


def _key(cfg, data: Dict[str, bytes], codes: List[str]) -> str:
    h = hashlib.sha256(f"aligner {__version__}\n{','.join(codes)}\n".encode())
    from aligner.know.snapshot import rules_digest

    h.update(rules_digest())
    if cfg.path:
        h.update(cfg.path.read_bytes())
    for path in sorted(data):
        h.update(path.encode() + b"\0" + hashlib.sha256(data[path]).digest())
    lock = cfg.lock_path()
    if cfg.images and lock.exists():
        from aligner.base.paths import read_regular

        try:
            h.update(read_regular(lock, 16 << 20))
        except InputError:
            h.update(b"unreadable lock")  # _check reports it
    src = cfg.upstream_source()
    from aligner.read.upstream import is_release

    if src and is_release(src):
        h.update(src.encode())  # its metadata is in the snapshot, which the key already covers
    elif src and "://" not in src:
        from aligner.base.paths import read_regular

        try:
            h.update(read_regular(src, 4 << 20))
        except InputError:
            h.update(b"unreadable upstream")  # _check reports it
    elif src:
        from aligner.know.httpcache import HttpCache

        entry = HttpCache().get(src)
        h.update((entry.body if entry else "").encode())
    return h.hexdigest()


def _check(ws, data: Dict[str, bytes], codes: List[str], errors: List[InputError]) -> Outcome:
    from aligner.decide import lock
    from aligner.decide.check import suppress
    from aligner.relate.images import group
    from aligner.decide.check import hints
    from aligner.decide.check.rules import AFTER_RULES, AFTER_SUPPRESSION, RULES, Context
    from aligner.know.components import catalog
    from aligner.know.snapshot import Snapshot

    cfg = ws.cfg
    parsed, texts = {}, {}
    for path, raw in data.items():
        try:
            parsed[path] = ws.parsed(path)
            texts[path] = raw.decode("utf-8")
        except InputError as exc:
            errors.append(exc)
    notes = []
    up = None
    src = cfg.upstream_source()
    if src:
        up = ws.upstream_cached()
        if up is None:
            notes.append(f"upstream {src} is not cached yet: AL002 and AL012 skipped (run `aligner lock` once online)")
    lock_state = None
    if cfg.images and cfg.path and (up is not None or not src):
        path = cfg.lock_path()
        if not path.exists():
            lock_state = "missing"
        else:
            try:
                recorded = lock.read(path).get("meta", {}).get("inputs")  # refuses a FIFO or directory
            except InputError as exc:
                errors.append(exc)
                recorded = None
            if recorded is not None and recorded != lock.inputs_hash(cfg, up.sha256 if up else None, ws.raw,
                                                                                  ws.build_scripts()):
                lock_state = "stale"
    ctx = Context(cfg, catalog(), Snapshot.load(), group(parsed, cfg), up, lock_state, dict(cfg.severity))
    configured = {os.path.abspath(p) for p in cfg.image_dockerfiles()}
    ctx.disagree = [(path, taken, other) for path in parsed if os.path.abspath(path) in configured
                    for _, taken, other in ws.build_args(path).disagree]
    found: Dict[tuple, Finding] = {}
    every = [code for code in docs() if code in RULES]  # unselected ones too: AL015 says only what none says
    for code in every:
        for f in RULES[code](ctx):
            found.setdefault(f.key(), f)
    if up is not None or not src:  # the plan fix follows: its edits are the findings' hints
        ctx.planned = hints.plan(ws, ctx.cat, ctx.snap)
    if ctx.planned is not None:
        notes += ctx.planned.notes
        for code in codes:
            if code in AFTER_RULES:
                for f in AFTER_RULES[code](ctx, list(found.values())):
                    found.setdefault(f.key(), f)
        found = {f.key(): f for f in hints.carried(found.values(), ctx.planned)}
    found = {k: f for k, f in found.items() if f.code in codes}
    by_file = {path: suppress.pragmas(text) for path, text in texts.items()}
    kept, unused = suppress.apply(found.values(), by_file)
    for code, after in AFTER_SUPPRESSION.items():
        if code in codes:
            kept += suppress.silenced(after(ctx, unused), by_file)
    kept.sort(key=lambda f: (f.path, f.line, f.column, f.code))
    return Outcome(kept, errors, len(data), notes=notes)


def _cache_path(key: str) -> Path:
    from aligner.know.httpcache import default_dir

    return default_dir() / "check" / f"{key}.json"


def _store(path: Path, outcome: Outcome) -> None:
    from aligner.base.atomic import atomic_write

    payload = {"findings": [f.to_json() for f in outcome.findings],
               "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in outcome.errors],
               "notes": outcome.notes}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(payload).encode("utf-8"))
    except OSError:
        pass


def _load(path: Path, errors: List[InputError], files: int) -> Outcome:
    payload = json.loads(path.read_text("utf-8"))
    findings = []
    for d in payload["findings"]:
        fix = Fix(**d["fix"]) if d.get("fix") else None
        findings.append(Finding(d["path"], d["line"], d["column"], d["code"], d["severity"], d["message"], fix))
    cached_errors = [InputError(e["path"], e["line"], e["message"]) for e in payload["errors"]]
    return Outcome(findings, errors + cached_errors, files, cached=True, notes=payload.get("notes", []))
