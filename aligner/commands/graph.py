"""`aligner graph`: the constraint graph of the images, as a tree, JSON, dot or SVG."""

from __future__ import annotations

import argparse
import sys

from aligner.base import status
from aligner.commands import options

def configure(p: argparse.ArgumentParser) -> None:
    p.description = ("The constraint graph: components as nodes, constraints as edges with "
                     "their provenance. svg needs Graphviz's `dot`.")
    options.config(p)
    p.add_argument("--image", help="only this image")
    from aligner.act.graph import FORMATS

    p.add_argument("--format", choices=FORMATS, default="tree")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")


def run(args: argparse.Namespace) -> int:
    from aligner.act import graph
    from aligner.commands.lock import print_conflicts
    from aligner.base.errors import ToolError, UsageError
    from aligner.decide import lock

    outcome = lock.target(options.workspace(args), *options.knowledge())[0]  # the one target check and fix use
    print_conflicts(outcome)
    graphs = graph.find([graph.build(li) for li in outcome.locked], args.image)
    if not graphs:
        raise UsageError("--image", f"no image named {args.image!r}")
    done = status.FINDINGS if outcome.conflicts else status.OK
    if args.format == "tree":
        graph.print_tree(graphs)
        return done
    if args.format == "svg":
        if len(graphs) > 1 and not args.image:
            raise UsageError("--format", "svg draws one image: pass --image NAME")
        try:
            data = graph.to_svg(graphs[0])
        except (FileNotFoundError, RuntimeError) as exc:
            raise ToolError(str(exc)) from None
    else:
        render = graph.to_json if args.format == "json" else graph.to_dot
        data = "".join(render(g) for g in graphs).encode("utf-8")
    if args.output:
        from pathlib import Path

        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return done
