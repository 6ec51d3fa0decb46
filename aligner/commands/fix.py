"""`aligner fix`: show (or write) the edits that bring every configured Dockerfile to the lock."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from aligner.base import status
from aligner.base.paths import display
from aligner.commands import options


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Bring every pin of the configured images to the lock: ARG/ENV defaults (quotes and `v` kept), "
        "pip/uv specs, FROM tags. Prints a unified diff; --apply writes the files atomically and "
        "refreshes the lock. When the lock is missing or stale, a lock computed in memory is used, and "
        "fix says so. Unsafe fixes (a CUDA or Python major change, a downgrade, a pre-release) need "
        "--unsafe-fixes."
    )
    p.epilog = "exit status: 0 nothing to change, 1 changes shown or applied, 2 error"
    p.add_argument("paths", nargs="*", metavar="PATH", help="only these Dockerfiles (default: every configured one)")
    options.config(p)
    p.add_argument("--apply", action="store_true", help="write the changes")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    p.add_argument("--report", metavar="FILE", help="write a report: FILE.md (Markdown, for a pull request) or FILE.json")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are changes")


def run(args: argparse.Namespace) -> int:
    from aligner.act import repolock

    if args.report:
        from aligner.act.fixreport import FORMATS

        options.report_format("--report", args.report, FORMATS)
    ws = options.workspace(args)
    with repolock.held(ws.cfg.root) if args.apply else contextlib.nullcontext():
        return _fix(args, ws)


def _fix(args: argparse.Namespace, ws) -> int:
    from pathlib import Path

    from aligner.decide import fix, lock
    from aligner.act import fixreport, generated
    from aligner.base.atomic import atomic_write
    from aligner.commands.lock import print_conflicts
    from aligner.base.errors import InputError

    cfg = ws.cfg
    cat, snap = options.knowledge()
    outcome, prefer, note = fix.target(ws, cat, snap)
    if outcome.conflicts:
        print_conflicts(outcome)
        return status.FINDINGS
    only = [os.path.abspath(p) for p in args.paths] or None
    configured = {os.path.abspath(p) for p in ws.cfg.image_dockerfiles()}
    stray = [p for p, a in zip(args.paths, only or []) if a not in configured]
    if stray:
        raise InputError(stray[0], None, "not a Dockerfile of any configured image")
    plan = fix.plan(ws, outcome, cat, args.unsafe_fixes, note, only)
    if note:
        print(f"note: {note}", file=sys.stderr)
    before = _findings(ws) if args.report else []
    sys.stderr.write(fixreport.edits_listing(plan))
    text = fixreport.diff(plan)
    sys.stdout.write(fixreport.colour(text) if sys.stdout.isatty() else text)
    lock_path = cfg.lock_path()
    if args.apply and plan.changed():
        written = fix.apply(plan, cfg.root)
        for fp in plan.changed():
            ws.replace(fp.path, fp.new)
        fresh = lock.relock(ws, outcome, cat, snap, prefer)
        n_edits = sum(1 for f in plan.files for e in f.edits if not e.aux)
        print(f"applied {n_edits} edit{'s' if n_edits != 1 else ''} to {len(written)} "
              f"file{'s' if len(written) != 1 else ''}", file=sys.stderr)
        if fresh.conflicts:
            print_conflicts(fresh)
        else:
            generated.write(lock_path, fresh.text)
            print(f"{display(lock_path)} refreshed", file=sys.stderr)
    elif args.apply and note:  # no file to change, but the lock is missing or stale: what `aligner lock` writes
        generated.write(lock_path, outcome.text)
        print(f"{display(lock_path)} refreshed", file=sys.stderr)
    if args.report:
        after = _findings(ws) if args.apply else None
        fixed, left = fixreport.classify(before, after, plan)
        render = fixreport.FORMATS[options.report_format("--report", args.report, fixreport.FORMATS)]
        body = render(plan, fixed, left, args.apply)
        atomic_write(Path(args.report).resolve(), body.encode("utf-8"))
    if not plan.changed():
        print("nothing to change", file=sys.stderr)
        return status.OK
    return status.OK if args.exit_zero else status.FINDINGS


def _findings(ws):
    """The check findings of the configured Dockerfiles, as the workspace holds them now."""
    from aligner.decide.check.engine import Settings, run

    paths = [display(p) for p in ws.cfg.dockerfile_paths()]
    return [f.to_json() for f in run(paths, ws.cfg, Settings(use_cache=False), ws).findings]
