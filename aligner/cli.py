"""The `aligner` command line: a thin layer that wires the modules together."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from aligner import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

DESCRIPTION = """\
Keep the versions inside ML-serving container images aligned.

aligner reads the version pins of CUDA, Python, PyTorch, vLLM, SGLang,
TensorRT-LLM, flashinfer, NIXL/UCX, LMCache and NVIDIA Dynamo from your
Dockerfiles (ARG and ENV defaults, FROM tags, pip/uv install lines, git refs).

exit status: 0 success, 1 findings, 2 usage or input error
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aligner", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"aligner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    pins = sub.add_parser(
        "pins",
        help="list every version pin found in Dockerfiles",
        description=(
            "List every version pin of a known component found in Dockerfiles, with its "
            "file:line, kind (arg, env, from, pip, git) and build stage. Directories are "
            "searched for Dockerfile, Dockerfile.*, *.Dockerfile and Containerfile."
        ),
    )
    pins.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)")
    pins.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="table for people (default); json for tools, see README 'Pin JSON'",
    )
    pins.set_defaults(run=_cmd_pins)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


def _cmd_pins(args: argparse.Namespace) -> int:
    from aligner import discover
    from aligner.dockerfile import read_file
    from aligner.errors import InputError
    from aligner.pinsview import print_json, print_table

    files, missing = discover.find(args.paths)
    errors = [InputError(p, None, "no such file or directory") for p in missing]
    parsed = []
    for path in files:
        try:
            parsed.append(read_file(path))
        except InputError as exc:
            errors.append(exc)
    if args.format == "json":
        print_json(parsed, errors)
    else:
        print_table(parsed)
    for exc in errors:
        print(f"error: {exc}", file=sys.stderr)
    if not files and not missing:
        print("warning: no Dockerfiles found under " + " ".join(args.paths), file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK
