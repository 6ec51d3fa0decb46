"""`aligner pins`: every version pin found in Dockerfiles, as a table or JSON."""

from __future__ import annotations

import argparse
import sys

from aligner.base import status
from aligner.commands import options


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "List every version pin of a known component found in Dockerfiles, with its "
        "file:line, kind (arg, env, from, pip, git) and build stage. Directories are "
        "searched for Dockerfile, Dockerfile.*, *.Dockerfile and Containerfile. The "
        "components a config adds ([tool.aligner.components]) are recognised too. A version a build "
        "script, compose file or workflow passes a configured image's Dockerfile is listed at the line "
        "that sets it."
    )
    options.config(p, network=False)
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)")
    from aligner.act.pinsview import FORMATS

    p.add_argument("--format", choices=tuple(FORMATS), default="table",
                   help="table for people (default); json for tools, see README 'Pin JSON'")


def run(args: argparse.Namespace) -> int:
    from aligner.read import discover
    from aligner.base.errors import InputError
    from aligner.act.pinsview import FORMATS

    ws = options.workspace(args)  # the config's own components and its errors; the build args its images take
    files, errors = discover.find(args.paths)
    errors += ws.build_errors()
    parsed = []
    for path in files:
        try:
            parsed.append(ws.parsed(path))
        except InputError as exc:
            errors.append(exc)
    FORMATS[args.format](parsed, errors)
    for exc in errors:
        print(f"error: {exc}", file=sys.stderr)
    if not files and not errors:
        print("warning: no Dockerfiles found under " + " ".join(args.paths), file=sys.stderr)
    return status.ERROR if errors else status.OK
