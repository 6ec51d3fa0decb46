"""`aligner lock`: resolve every configured image and write (or, with --check, verify) the lock."""

from __future__ import annotations

import argparse
import contextlib
import sys

from aligner.base import status
from aligner.base.paths import display
from aligner.commands import options


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Resolve, for every image in [tool.aligner.images], one set of versions that satisfies the "
        "upstream pyproject's pins for the image's extra, every chosen release's own requirements "
        "(from the index snapshot), the image's Python and CUDA, and its platforms; preferring the "
        "upstream's pins, then the versions of a lock already written for these same files, then the "
        "Dockerfiles' current pins, then the newest release. Writes lock/aligner.lock with the reason "
        "for every version. The lock is the aligned target: `check` reports a pin that differs from it "
        "and `fix` moves the pin to it."
    )
    options.config(p)
    p.add_argument("--upgrade", action="store_true", help="prefer the newest releases over the current pins")
    p.add_argument("--upgrade-package", action="append", default=[], metavar="NAME",
                   help="prefer the newest release of this component only (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the lock is missing or stale (for CI)")


def print_conflicts(outcome) -> None:
    for c in outcome.conflicts:
        print(f"error: no aligned set of versions for image {c.image}:", file=sys.stderr)
        for line in c.lines:
            print(f"  {line}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from aligner.decide import lock
    from aligner.act import repolock

    upgrade = frozenset(["*"] if args.upgrade else args.upgrade_package)
    ws = options.workspace(args)
    path = ws.cfg.lock_path()
    with contextlib.nullcontext() if args.check else repolock.held(ws.cfg.root):
        if path.exists():
            lock.read(path)  # a lock edited into nonsense is refused, not overwritten
        outcome = lock.target(ws, *options.knowledge(), upgrade)[0]
        if outcome.conflicts:
            print_conflicts(outcome)
            return status.FINDINGS
        return _check(path, outcome) if args.check else _write(path, outcome)


def _check(path, outcome) -> int:
    from aligner.act import generated

    old = generated.on_disk(path)
    if old is None:
        print(f"{display(path)}: missing; run `aligner lock`", file=sys.stderr)
        return status.FINDINGS
    if old != outcome.text:
        print(f"{display(path)}: stale (its inputs or results changed); run `aligner lock`", file=sys.stderr)
        sys.stderr.write(generated.diff(old, outcome.text, "lock"))
        return status.FINDINGS
    print(f"{display(path)}: up to date")
    return status.OK


def _write(path, outcome) -> int:
    from aligner.act import generated

    written = generated.write(path, outcome.text)
    for li in outcome.locked:
        print(f"{li.input.config.name}: {len(li.result.choices)} components"
              + (f", {len(li.changes)} differ from the Dockerfiles" if li.changes else ""))
        for comp, text in sorted(li.changes.items()):
            print(f"  {comp} {li.result.choices[comp].version}: {text}")
    print(f"{display(path)}: {'written' if written else 'unchanged'}")
    return status.OK
