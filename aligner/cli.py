"""The `aligner` command line: parse, run one command, turn its errors into exit statuses."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

from aligner import __version__
from aligner.base import status
from aligner.commands import COMMANDS

DESCRIPTION = """\
Keep the versions inside ML-serving container images aligned.

aligner reads the version pins of CUDA, Python, PyTorch, vLLM, SGLang,
TensorRT-LLM, flashinfer, NIXL/UCX, LMCache and NVIDIA Dynamo from your
Dockerfiles (ARG and ENV defaults, FROM tags, pip/uv install lines, git refs),
checks them against each other, the upstream pyproject and the index's own
metadata, resolves one aligned set per image into lock/aligner.lock, and
rewrites the pins to it.

  aligner check            lint (pre-commit, CI)
  aligner lock [--check]   resolve and write (or verify) the lock
  aligner fix [--apply]    bring the Dockerfiles to the lock
  aligner verify           prove the lock: build and probe the images, resolve with uv
  aligner bake             a BuildKit bake file of the locked images
  aligner report           the version matrix of the locked images, and the GPUs each runs on

exit status: 0 success, 1 findings, 2 usage or input error
"""


def parser(argv: List[str]) -> argparse.ArgumentParser:
    """The parser; only the command named in `argv` is imported and given its options."""
    top = argparse.ArgumentParser(prog="aligner", description=DESCRIPTION,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"aligner {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_line) in COMMANDS.items():
        p = sub.add_parser(name, help=help_line)
        if name == wanted:
            command = importlib.import_module(module)
            command.configure(p)
            p.set_defaults(run=command.run)
    return top


def main(argv: Optional[List[str]] = None) -> int:
    from aligner.know import components, fetch
    from aligner.base.errors import AlignerError

    argv = sys.argv[1:] if argv is None else argv
    components.use(None)  # a config read by an earlier in-process call must not leak into this one
    top = parser(argv)
    args = top.parse_args(argv)
    if not getattr(args, "run", None):
        top.print_help()
        return status.ERROR
    fetch.OFFLINE = bool(getattr(args, "offline", False) or os.environ.get("ALIGNER_OFFLINE", "") not in ("", "0"))
    try:
        return args.run(args)
    except AlignerError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.status
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say
        return status.ERROR
    except OSError as exc:  # an output path that cannot be written, a disk that is full
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return status.ERROR
    except KeyboardInterrupt:  # every write was whole or not begun (aligner.base.atomic); say so plainly
        print("interrupted: no file was left half-written", file=sys.stderr)
        return status.INTERRUPTED
