"""`aligner bake`: a BuildKit bake file of the locked images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aligner.base import status
from aligner.commands import options


def configure(b: argparse.ArgumentParser) -> None:
    b.description = ("A bake file (JSON) with one target per locked image and platform and the "
                     "lock's build args, for `docker buildx bake -f FILE` on any builder. Chained "
                     "Dockerfiles (a base, then an engine) are linked by named contexts.")
    options.config(b)
    b.add_argument("--print", action="store_true", help="print the file instead of writing it")
    b.add_argument("-o", "--output", default="docker-bake.json", help="where to write it (default docker-bake.json)")
    b.add_argument("--images", nargs="+", metavar="NAME", help="only these images of the lock")
    b.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE", help="also set this build arg")


def run(args) -> int:
    from aligner.base.atomic import atomic_write
    from aligner.commands.verify import targets_of
    from aligner.act.verify import bake

    targets = targets_of(args, options.workspace(args))
    text = bake.dumps(targets)
    if args.print:
        sys.stdout.write(text)
    else:
        atomic_write(Path(args.output).resolve(), text.encode("utf-8"))
        print(f"{args.output}: {len(targets)} target{'s' if len(targets) != 1 else ''}", file=sys.stderr)
    return status.OK
