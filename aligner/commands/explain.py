"""`aligner explain COMPONENT[==VERSION]`: the constraints that decide a component's version."""

from __future__ import annotations

import argparse

from aligner.commands import options


def configure(p: argparse.ArgumentParser) -> None:
    p.description = ("The chain of constraints, with where each comes from, that decides "
                     "a component's version; with ==VERSION, whether that version could be chosen.")
    options.config(p)
    p.add_argument("component", metavar="COMPONENT[==VERSION]")
    p.add_argument("--image", help="only this image")


def run(args: argparse.Namespace) -> int:
    from aligner.commands.lock import print_conflicts
    from aligner.act.explain import explain
    from aligner.decide import lock

    name, _, version = args.component.partition("==")
    outcome = lock.target(options.workspace(args), *options.knowledge())[0]  # the one target check and fix use
    print_conflicts(outcome)
    return explain(outcome, name.strip(), version.strip() or None, args.image)
