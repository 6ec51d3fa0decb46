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
        "Bring every pin of the configured images to the lock, the aligned target that `check` holds "
        "them against: ARG/ENV defaults (quotes and `v` kept), pip/uv specs, FROM tags. Each edit is the "
        "fix `check` shows on that pin. Prints a unified diff, the lock's own change included; --apply "
        "writes the files and the lock atomically. When the lock is missing or stale, the lock is "
        "computed in memory, and fix says so. Unsafe fixes (a CUDA or Python major change, a downgrade, "
        "a pre-release) need --unsafe-fixes; without it, an image with one keeps all of its changes back, "
        "so that it is never half aligned, while the lock still records the aligned target."
    )
    p.epilog = ("exit status: 0 nothing to change, or (with --apply) everything found was written; 1 changes "
                "shown, or something left (an unsafe change held back, a pin fix cannot write, no aligned "
                "set); 2 error. With --exit-non-zero-on-fix, 1 also when --apply wrote anything.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="only these Dockerfiles (default: every configured one)")
    options.config(p)
    p.add_argument("--apply", action="store_true", help="write the changes")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    p.add_argument("--report", metavar="FILE", help="write a report: FILE.md (Markdown, for a pull request) or FILE.json")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are changes or something is left")
    p.add_argument("--exit-non-zero-on-fix", action="store_true",
                   help="with --apply, exit 1 when anything was written, even if nothing is left (as ruff's)")


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
    if outcome.conflicts:  # no edit anywhere: the lock is one decision over every image
        print_conflicts(outcome)
        if args.report:
            plan = fix.Plan([], note, {}, conflicts=[(c.image, c.lines) for c in outcome.conflicts])
            before = _findings(ws)
            fixed, left = fixreport.classify(before, None, plan)
            render = fixreport.FORMATS[options.report_format("--report", args.report, fixreport.FORMATS)]
            atomic_write(Path(args.report).resolve(), render(plan, fixed, left, args.apply).encode("utf-8"))
        return status.OK if args.exit_zero else status.FINDINGS
    only = [os.path.abspath(p) for p in args.paths] or None
    configured = {os.path.abspath(p) for p in ws.cfg.image_dockerfiles()}
    stray = [p for p, a in zip(args.paths, only or []) if a not in configured]
    if stray:
        raise InputError(stray[0], None, "not a Dockerfile of any configured image")
    plan = fix.plan(ws, outcome, cat, args.unsafe_fixes, note, only)
    if note:
        print(f"note: {note}", file=sys.stderr)
    before = _findings(ws) if args.report else []
    after_ws = ws.with_bytes({fp.path: fp.new for fp in plan.changed()})
    fresh = lock.relock(after_ws, outcome, cat, snap, prefer) if plan.changed() else outcome
    lock_path = cfg.lock_path()
    plan.lock_path, plan.lock_old = display(lock_path), generated.on_disk(lock_path)
    plan.lock_new = None if fresh.conflicts else fresh.text
    sys.stderr.write(fixreport.edits_listing(plan))
    text = fixreport.diff(plan)
    sys.stdout.write(fixreport.colour(text) if sys.stdout.isatty() else text)
    wrote = False
    if args.apply:
        if plan.changed():
            written = fix.apply(plan, cfg.root)
            for fp in plan.changed():
                ws.replace(fp.path, fp.new)
            n = len(plan.applied())
            print(f"applied {n} edit{'s' if n != 1 else ''} to {len(written)} file{'s' if len(written) != 1 else ''}",
                  file=sys.stderr)
            wrote = True
        if fresh.conflicts:
            print_conflicts(fresh)
        elif plan.lock_changes():
            generated.write(lock_path, plan.lock_new)
            print(f"{display(lock_path)} {'written' if plan.lock_old is None else 'refreshed'}", file=sys.stderr)
            wrote = True
        if not fresh.conflicts:
            lock.settled(ws, fresh, cat, snap)  # what the report's second check plans from: no resolve again
    if args.report:
        after = _findings(ws) if args.apply else None
        fixed, left = fixreport.classify(before, after, plan)
        render = fixreport.FORMATS[options.report_format("--report", args.report, fixreport.FORMATS)]
        atomic_write(Path(args.report).resolve(), render(plan, fixed, left, args.apply).encode("utf-8"))
    held, left_notes = plan.held(), plan.left()
    if held:
        print(f"{len(held)} unsafe change{'s' if len(held) != 1 else ''} held back (listed above): "
              "--unsafe-fixes applies them", file=sys.stderr)
    something = plan.changed() or plan.lock_changes() or held or left_notes or fresh.conflicts
    if not something:
        print("nothing to change", file=sys.stderr)
        return status.OK
    if args.exit_zero:
        return status.OK
    if not args.apply:
        return status.FINDINGS
    remaining = held or left_notes or fresh.conflicts
    return status.FINDINGS if remaining or (args.exit_non_zero_on_fix and wrote) else status.OK


def _findings(ws):
    """The check findings of the configured Dockerfiles, as the workspace holds them now."""
    from aligner.decide.check.engine import Settings, run

    paths = [display(p) for p in ws.cfg.dockerfile_paths()]
    return [f.to_json() for f in run(paths, ws.cfg, Settings(use_cache=False), ws).findings]
