"""`aligner report`: the version matrix of the locked images, as Markdown or JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aligner.base import status
from aligner.base.paths import display
from aligner.commands import options

DESCRIPTION = """\
The version matrix of the images in the lock (lock/aligner.lock): per image its
platforms, the locked Python, CUDA, torch, engine (vllm, sglang or
tensorrt-llm), flashinfer, NIXL and every other locked component, and for each
of its target GPUs (`gpus` of the image) whether it can run there, with the
reason. That verdict comes from facts in rules/: the GPU's compute capability
(rules/gpus.toml), what the locked CUDA release compiles for and the Linux
driver it needs (rules/cuda.toml, checked against the image's `driver` when
the config names one), and, where the image's Dockerfiles set one, whether the
arch list (TORCH_CUDA_ARCH_LIST, CUDA_ARCH_LIST, CMAKE_CUDA_ARCHITECTURES)
covers the GPU. Output is sorted and has no timestamp: the same lock and rules
give the same bytes. Nothing is resolved: a stale lock is reported as written
(with a note); run `aligner lock` first.

  aligner report                              # Markdown on standard output
  aligner report --output docs/versions.md    # write (or refresh) the page
  aligner report --check --output docs/versions.md   # CI: exit 1 when it is stale
  aligner report --format json
"""


def configure(p: argparse.ArgumentParser) -> None:
    p.description = DESCRIPTION
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = ("exit status: 0 written, printed or current, 1 --check found the file missing or stale, "
                "2 usage or input error (no lock)")
    options.config(p, network=False)
    from aligner.act.matrix import FORMATS

    p.add_argument("--format", choices=tuple(FORMATS), default=None,
                   help="md, a Markdown page, or json, for tools (README 'aligner report' documents it); "
                        "default: json when --output ends in .json, else md")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE atomically (only when its content changes) instead of standard output")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when --output FILE is missing or differs from what would be "
                        "written (for CI)")


def run(args: argparse.Namespace) -> int:
    from aligner.act import generated, matrix
    from aligner.decide import lock
    from aligner.base.errors import UsageError

    if args.check and not args.output:
        raise UsageError("--check", "needs --output FILE: the file to compare with")
    fmt = args.format or ("json" if args.output and args.output.endswith(".json") else "md")
    ws = options.workspace(args)
    path, data = options.recorded_lock(ws)
    fresh = lock.matches_inputs(ws.cfg, data, ws.raw, ws.build_scripts())
    if not fresh:
        print(f"note: {display(path)} is stale (its Dockerfiles or config changed since `aligner lock`); "
              "reporting it as written", file=sys.stderr)
    m = matrix.build(ws.cfg, data, ws.parsed)
    text = matrix.FORMATS[fmt](m).encode("utf-8")
    if not args.output:
        sys.stdout.buffer.write(text)
        return status.OK
    out = Path(args.output).resolve()
    regenerate = f"run `aligner report --output {args.output}`" + (" after `aligner lock`" if not fresh else "")
    old = generated.on_disk(out)
    if args.check:
        if old is None:
            print(f"{args.output}: missing; {regenerate}", file=sys.stderr)
            return status.FINDINGS
        if old != text:
            print(f"{args.output}: stale (it is not what `aligner report` makes of {display(path)}); "
                  f"{regenerate}", file=sys.stderr)
            sys.stderr.write(generated.diff(old, text, args.output))
            return status.FINDINGS
        print(f"{args.output}: up to date", file=sys.stderr)
        return status.OK
    written = generated.write(out, text)
    print(f"{args.output}: {'written' if written else 'unchanged'}", file=sys.stderr)
    return status.OK
