"""`aligner check`: lint Dockerfiles and print the findings in the chosen format."""

from __future__ import annotations

import argparse
import os
import sys

from aligner.base import status
from aligner.base.paths import display
from aligner.commands import options

DESCRIPTION = (
    "Check Dockerfiles against the rules (see `aligner rules list` and `aligner rules show AL003`). "
    "Works offline from the snapshot; an unchanged repository is answered from a cache. "
    "In the files of configured images, the fix shown on a finding is the edit `aligner fix` makes at "
    "that pin, towards the lock (the aligned target); a pin that differs from the lock with nothing "
    "else wrong is AL015. A Dockerfile given alone is checked with the rest of its configured image. "
    "Suppress a finding with `# aligner: ignore=AL003` on the line above or the same line, or a whole "
    "file with `# aligner: ignore-file`."
)


def configure(p: argparse.ArgumentParser) -> None:
    from aligner.act.findings import FORMATS

    p.description = DESCRIPTION
    p.epilog = "exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error"
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or directories (default: the config's images and dockerfiles, else .)")
    options.config(p)
    p.add_argument("--format", choices=tuple(FORMATS), default=None,
                   help="output format (default: text; github when GITHUB_ACTIONS is set)")
    p.add_argument("--select", type=options.codes, default=(), help="only these codes or prefixes, comma separated (ALL)")
    p.add_argument("--extend-select", type=options.codes, default=(), help="add codes to the selection")
    p.add_argument("--ignore", type=options.codes, default=(), help="leave out these codes or prefixes")
    p.add_argument("--extend-ignore", type=options.codes, default=(),
                   help="leave out these too, keeping the config's ignore list (the pre-commit hook leaves out "
                        "AL012: the lock hooks own the lock)")
    p.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                   help="lowest severity that makes the exit status 1 (default: error)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.add_argument("-o", "--output", help="write the report to this file")


def run(args: argparse.Namespace) -> int:
    from aligner.act import findings
    from aligner.decide.check.engine import Settings, run as check
    from aligner.decide.check.model import docs, rank
    from aligner.base.errors import UsageError

    cfg = options.load_config(args)
    unknown = [c for c in (*args.select, *args.extend_select, *args.ignore, *args.extend_ignore)
               if c != "ALL" and not any(code.startswith(c) for code in docs())]
    if unknown:
        raise UsageError("--select", f"unknown rule code {unknown[0]!r}", hint="see `aligner rules list`")
    paths = args.paths or [display(p) for p in cfg.dockerfile_paths()] or ["."]
    outcome = check(paths, cfg, Settings(args.select, args.ignore, args.extend_select, not args.no_cache,
                                         args.extend_ignore))
    fmt = findings.FORMATS[args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")]
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        out.write(fmt.render(outcome, color=out.isatty()))
    finally:
        if args.output:
            out.close()
    if not fmt.carries_errors:
        for e in outcome.errors:
            print(f"error: {e}", file=sys.stderr)
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if not outcome.files and not outcome.errors:  # as ruff does: an empty run is said, not passed off as clean
        print("warning: no Dockerfiles found under " + " ".join(paths), file=sys.stderr)
    if outcome.errors:
        return status.ERROR
    failing = [f for f in outcome.findings if rank(f.severity) >= rank(args.fail_on)]
    return status.OK if args.exit_zero or not failing else status.FINDINGS
