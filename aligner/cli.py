"""The `aligner` command line: a thin layer that wires the modules together."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from aligner import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

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
            "searched for Dockerfile, Dockerfile.*, *.Dockerfile and Containerfile. The "
            "components a config adds ([tool.aligner.components]) are recognised too."
        ),
    )
    pins.add_argument("--config", help="aligner.toml or pyproject.toml with [tool.aligner] (default: found upwards "
                                       "from .)")
    pins.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories (default: .)")
    pins.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="table for people (default); json for tools, see README 'Pin JSON'",
    )
    pins.set_defaults(run=_cmd_pins)

    rules = sub.add_parser(
        "rules",
        help="what aligner knows: components, index snapshot, fact tables",
        description=(
            "What aligner knows about the stack: how each component is recognised, its releases "
            "and their requirements (from the index snapshot in rules/snapshot, offline), and "
            "static fact tables (NGC releases, CUDA drivers and architectures, GPUs), each row "
            "with its source."
        ),
    )
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rlist = rsub.add_parser("list", help="every component and fact table")
    rlist.set_defaults(run=_cmd_rules_list)
    show = rsub.add_parser(
        "show", help="one component (releases and their requirements) or fact table",
        description="Show a component (e.g. vllm, vllm==0.10.2, flashinfer) or a fact table (gpus, cuda.arch, ngc).",
    )
    show.add_argument("name", metavar="NAME[==VERSION]")
    show.add_argument("--all", action="store_true", help="every release, not only the newest 25")
    show.add_argument("--online", action="store_true", help="overlay live index data on the snapshot")
    show.add_argument("--sources", action="store_true", help="list each fact row's source document")
    show.add_argument("--index-url", help="index to read with --online (default: pip/uv configuration)")
    _offline_arg(show)
    show.set_defaults(run=_cmd_rules_show)
    refresh = rsub.add_parser(
        "refresh", help="rebuild the index snapshot from the live index",
        description=(
            "Fetch the metadata of every release (since each component's floor in "
            "rules/components.toml) of the stack's index projects and write the snapshot, "
            "sorted and deterministic, one JSON file per project."
        ),
    )
    refresh.add_argument("--project", action="append", help="only this index project (repeatable)")
    refresh.add_argument("--index-url", help="index to read (default: pip/uv configuration, else pip's default)")
    refresh.add_argument("--out", help="snapshot directory (default: the installed rules/snapshot)")
    refresh.add_argument("--jobs", type=int, default=8, help="concurrent requests (default 8)")
    refresh.set_defaults(run=_cmd_rules_refresh)
    rules.set_defaults(run=lambda a: (rules.print_help(), EXIT_ERROR)[1])

    check = sub.add_parser(
        "check", help="lint Dockerfiles: unpinned, drifted or incompatible versions (rules AL001...)",
        description=(
            "Check Dockerfiles against the rules (see `aligner rules list` and `aligner rules show AL003`). "
            "Works offline from the snapshot; an unchanged repository is answered from a cache. "
            "Suppress a finding with `# aligner: ignore=AL003` on the line above or the same line, or a whole "
            "file with `# aligner: ignore-file`."
        ),
        epilog="exit status: 0 no finding at or above --fail-on, 1 findings, 2 usage or input error",
    )
    check.add_argument("paths", nargs="*", metavar="PATH",
                       help="files or directories (default: the config's images and dockerfiles, else .)")
    _config_arg(check)
    check.add_argument("--format", choices=("text", "concise", "json", "sarif", "github", "junit"), default=None,
                       help="output format (default: text; github when GITHUB_ACTIONS is set)")
    check.add_argument("--select", type=_codes, default=(), help="only these codes or prefixes, comma separated (ALL)")
    check.add_argument("--extend-select", type=_codes, default=(), help="add codes to the selection")
    check.add_argument("--ignore", type=_codes, default=(), help="leave out these codes or prefixes")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                       help="lowest severity that makes the exit status 1 (default: error)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    check.add_argument("-o", "--output", help="write the report to this file")
    check.set_defaults(run=_cmd_check)

    lock = sub.add_parser(
        "lock", help="resolve one aligned set of versions per image and write the lock",
        description=(
            "Resolve, for every image in [tool.aligner.images], one set of versions that satisfies the "
            "upstream pyproject's pins for the image's extra, every chosen release's own requirements "
            "(from the index snapshot), the image's Python and CUDA, and its platforms; preferring the "
            "upstream's pins, then the Dockerfiles' current pins, then the newest release. Writes "
            "lock/aligner.lock with the reason for every version."
        ),
    )
    _config_arg(lock)
    lock.add_argument("--upgrade", action="store_true", help="prefer the newest releases over the current pins")
    lock.add_argument("--upgrade-package", action="append", default=[], metavar="NAME",
                      help="prefer the newest release of this component only (repeatable)")
    lock.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 when the lock is missing or stale (for CI)")
    lock.set_defaults(run=_cmd_lock)

    fix = sub.add_parser(
        "fix", help="rewrite pins to the lock: a diff by default, --apply to write",
        description=(
            "Bring every pin of the configured images to the lock: ARG/ENV defaults (quotes and `v` kept), "
            "pip/uv specs, FROM tags. Prints a unified diff; --apply writes the files atomically and "
            "refreshes the lock. When the lock is missing or stale, a lock computed in memory is used, and "
            "fix says so. Unsafe fixes (a CUDA or Python major change, a downgrade, a pre-release) need "
            "--unsafe-fixes."
        ),
        epilog="exit status: 0 nothing to change, 1 changes shown or applied, 2 error",
    )
    fix.add_argument("paths", nargs="*", metavar="PATH", help="only these Dockerfiles (default: every configured one)")
    _config_arg(fix)
    fix.add_argument("--apply", action="store_true", help="write the changes")
    fix.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    fix.add_argument("--report", metavar="FILE", help="write a report: FILE.md (Markdown, for a pull request) or FILE.json")
    fix.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are changes")
    fix.set_defaults(run=_cmd_fix)

    explain = sub.add_parser("explain", help="why a version is (or would not be) chosen",
                             description="The chain of constraints, with where each comes from, that decides "
                                         "a component's version; with ==VERSION, whether that version could be chosen.")
    _config_arg(explain)
    explain.add_argument("component", metavar="COMPONENT[==VERSION]")
    explain.add_argument("--image", help="only this image")
    explain.set_defaults(run=_cmd_explain)

    graph = sub.add_parser("graph", help="draw the constraint graph of the images",
                           description="The constraint graph: components as nodes, constraints as edges with "
                                       "their provenance. svg needs Graphviz's `dot`.")
    _config_arg(graph)
    graph.add_argument("--image", help="only this image")
    graph.add_argument("--format", choices=("tree", "json", "dot", "svg"), default="tree")
    graph.add_argument("-o", "--output", help="write to this file instead of standard output")
    graph.set_defaults(run=_cmd_graph)

    from aligner.build import commands as build_commands

    build_commands.add(sub, _config_arg)

    report = sub.add_parser(
        "report", help="the version matrix of the locked images, with the GPUs each can run on",
        description=REPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: 0 written, printed or current, 1 --check found the file missing or stale, "
               "2 usage or input error (no lock)",
    )
    report.add_argument("--config", help="aligner.toml or pyproject.toml with [tool.aligner] (default: found "
                                         "upwards from .)")
    report.add_argument("--format", choices=("md", "json"), default=None,
                        help="md, a Markdown page, or json, for tools (README 'aligner report' documents it); "
                             "default: json when --output ends in .json, else md")
    report.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE atomically (only when its content changes) instead of standard output")
    report.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when --output FILE is missing or differs from what would be "
                             "written (for CI)")
    report.set_defaults(run=_cmd_report)
    return parser


REPORT_HELP = """\
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


def _short(path: str) -> str:
    from aligner.paths import display

    return display(path)


def _codes(text: str):
    return tuple(c.strip().upper() for c in text.split(",") if c.strip())


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="aligner.toml or pyproject.toml with [tool.aligner] (default: found upwards from .)")
    p.add_argument("--allow-insecure", action="store_true", help="allow a plain http:// upstream URL")
    _offline_arg(p)


def _offline_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true",
                   help="never use the network: an upstream URL and index pages come from aligner's cache (saying "
                        "how old they are), uv runs with --offline; also ALIGNER_OFFLINE=1")


def _load_config(args: argparse.Namespace):
    """The repo's config; its own components join the catalog for the rest of the run."""
    from pathlib import Path

    from aligner import components, config

    cfg = config.load(Path(args.config) if args.config else None)
    components.use(cfg.catalog())
    return cfg


def main(argv: Optional[List[str]] = None) -> int:
    from aligner.errors import InputError
    from aligner.facts import FactsError
    from aligner.snapshot import SnapshotError

    from aligner import components

    components.use(None)  # a config read by an earlier in-process call must not leak into this one
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_ERROR
    from aligner import fetch

    fetch.OFFLINE = bool(getattr(args, "offline", False) or os.environ.get("ALIGNER_OFFLINE", "") not in ("", "0"))
    try:
        return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (FactsError, SnapshotError) as exc:  # aligner's own data is broken: say which file
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # an output path that cannot be written, a disk that is full
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:  # every write was whole or not begun (aligner.atomic); say so plainly
        print("interrupted: no file was left half-written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR


def _cmd_pins(args: argparse.Namespace) -> int:
    from aligner import discover
    from aligner.dockerfile import read_file
    from aligner.errors import InputError
    from aligner.pinsview import print_json, print_table

    _load_config(args)  # the config's own components, and its errors
    files, errors = discover.find(args.paths)
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
    if not files and not errors:
        print("warning: no Dockerfiles found under " + " ".join(args.paths), file=sys.stderr)
    return EXIT_ERROR if errors else EXIT_OK


def _cmd_rules_list(args: argparse.Namespace) -> int:
    from aligner.components import catalog
    from aligner.rulesview import print_list
    from aligner.snapshot import Snapshot

    print_list(catalog(), Snapshot.load())
    return EXIT_OK


def _cmd_rules_show(args: argparse.Namespace) -> int:
    from aligner import facts
    from aligner.components import catalog
    from aligner.rulesview import print_component, print_tables
    from aligner.snapshot import Snapshot, build_project

    cat = catalog()
    name, _, version = args.name.partition("==")
    from aligner.check.model import docs

    if name.strip().upper() in docs():
        from aligner.check.output import _help_text

        code = name.strip().upper()
        print(f"{code} {docs()[code]['name']} [{docs()[code]['severity']}]\n")
        print(_help_text(code))
        return EXIT_OK
    comp_name = cat.resolve(name.strip())
    if comp_name is None:
        if print_tables(name.strip(), args.sources) == 0:
            return EXIT_OK
        known = ", ".join(cat.names() + sorted({k.split(".")[0] for k in facts.tables()}))
        print(f"error: unknown component or table {name!r}; known: {known}", file=sys.stderr)
        return EXIT_ERROR
    comp = cat.components[comp_name]
    if args.sources and comp.versions.startswith("table:"):
        print_tables(comp.versions[6:], True)
        return EXIT_OK
    snap = Snapshot.load()
    if args.online and comp.index:
        from aligner.index import IndexClient, IndexFetchError

        try:
            client = IndexClient(args.index_url)
            snap.add(build_project(client, comp.index[0], comp.since, cat))
        except IndexFetchError as exc:  # the snapshot still answers: say so, and how far it goes
            known = snap.releases(comp.index[0])
            newest = known[-1].version if known else None
            print(f"warning: {exc}; showing the snapshot shipped with aligner instead"
                  + (f" (its newest {comp.index[0]} release: {newest})" if newest else ""), file=sys.stderr)
        else:
            for w in client.warnings:
                print(f"warning: {w}", file=sys.stderr)
    if version.strip():
        from packaging.version import InvalidVersion, Version

        try:
            Version(version.strip())
        except InvalidVersion:
            print(f"error: {version.strip()!r} is not a version", file=sys.stderr)
            return EXIT_ERROR
    found = print_component(cat, snap, comp, version.strip() or None, 10**9 if args.all else 25)
    return EXIT_OK if found == 0 else EXIT_ERROR


def _cmd_rules_refresh(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from aligner.components import catalog
    from aligner.index import IndexClient, IndexFetchError
    from aligner.snapshot import build_project, default_dir, write_project

    cat = catalog()
    wanted = [(p, c.since) for c in cat.indexed() for p in c.index]
    if args.project:
        unknown = sorted(set(args.project) - {p for p, _ in wanted})
        if unknown:
            print(f"error: not an index project of the stack: {', '.join(unknown)}", file=sys.stderr)
            return EXIT_ERROR
        wanted = [w for w in wanted if w[0] in args.project]
    out_dir = Path(args.out) if args.out else default_dir()
    try:
        client = IndexClient(args.index_url, workers=max(1, args.jobs), max_age=0)
    except IndexFetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"index: {client.index_url} (from {client.index_source})", file=sys.stderr)
    failed = 0
    err = Console(stderr=True, highlight=False)
    with Progress(TextColumn("{task.description:20}"), BarColumn(), MofNCompleteColumn(),
                  console=err, disable=not err.is_terminal) as progress:
        for project, since in wanted:
            task = progress.add_task(project, total=None)
            try:
                record = build_project(client, project, since, cat,
                                       lambda done, total: progress.update(task, completed=done, total=total))
            except IndexFetchError as exc:
                failed += 1
                progress.console.print(f"error: {project}: {exc}", markup=False)
                continue
            path = write_project(out_dir, record)
            progress.console.print(f"{project}: {len(record['releases'])} releases -> {path}", markup=False)
    for w in client.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_OK


def _outcome(args: argparse.Namespace, upgrade=frozenset()):
    from aligner import lock
    from aligner.components import catalog
    from aligner.snapshot import Snapshot

    cfg = _load_config(args)
    return cfg, lock.compute(cfg, catalog(), Snapshot.load(), upgrade, args.allow_insecure)


def _print_conflicts(outcome) -> None:
    for c in outcome.conflicts:
        print(f"error: no aligned set of versions for image {c.image}:", file=sys.stderr)
        for line in c.lines:
            print(f"  {line}", file=sys.stderr)


def _cmd_lock(args: argparse.Namespace) -> int:
    import contextlib

    from aligner import lock, repolock

    upgrade = frozenset(["*"] if args.upgrade else args.upgrade_package)
    cfg = _load_config(args)
    with contextlib.nullcontext() if args.check else repolock.held(cfg.root):
        if cfg.lock_path().exists():
            lock.read(cfg.lock_path())  # a lock edited into nonsense is refused, not overwritten
        return _lock(args, cfg, upgrade)


def _lock(args: argparse.Namespace, cfg, upgrade) -> int:
    import difflib

    from aligner import lock
    from aligner.atomic import atomic_write
    from aligner.components import catalog
    from aligner.snapshot import Snapshot

    outcome = lock.compute(cfg, catalog(), Snapshot.load(), upgrade, args.allow_insecure)
    if outcome.conflicts:
        _print_conflicts(outcome)
        return EXIT_FINDINGS
    path = cfg.lock_path()
    if args.check:
        if not path.exists():
            print(f"{_short(str(path))}: missing; run `aligner lock`", file=sys.stderr)
            return EXIT_FINDINGS
        from aligner.paths import read_regular

        old = read_regular(path, 16 << 20)
        if old != outcome.text:
            print(f"{_short(str(path))}: stale (its inputs or results changed); run `aligner lock`", file=sys.stderr)
            diff = difflib.unified_diff(old.decode("utf-8", "replace").splitlines(), outcome.text.decode().splitlines(),
                                        "lock (on disk)", "lock (now)", lineterm="", n=1)
            sys.stderr.write("\n".join(diff) + "\n")
            return EXIT_FINDINGS
        print(f"{_short(str(path))}: up to date")
        return EXIT_OK
    path.parent.mkdir(parents=True, exist_ok=True)
    from aligner.paths import read_regular

    unchanged = path.exists() and read_regular(path, 16 << 20) == outcome.text
    if not unchanged:
        atomic_write(path, outcome.text)
    for li in outcome.locked:
        print(f"{li.input.config.name}: {len(li.result.choices)} components"
              + (f", {len(li.changes)} differ from the Dockerfiles" if li.changes else ""))
        for comp, text in sorted(li.changes.items()):
            print(f"  {comp} {li.result.choices[comp].version}: {text}")
    print(f"{_short(str(path))}: {'unchanged' if unchanged else 'written'}")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace) -> int:
    from aligner.explain import explain

    name, _, version = args.component.partition("==")
    _, outcome = _outcome(args)
    _print_conflicts(outcome)
    return explain(outcome, name.strip(), version.strip() or None, args.image)


def _cmd_graph(args: argparse.Namespace) -> int:
    from aligner import graph

    _, outcome = _outcome(args)
    _print_conflicts(outcome)
    graphs = graph.find([graph.build(li) for li in outcome.locked], args.image)
    if not graphs:
        print(f"error: no image named {args.image!r}", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "tree":
        graph.print_tree(graphs)
        return EXIT_FINDINGS if outcome.conflicts else EXIT_OK
    if args.format == "svg":
        if len(graphs) > 1 and not args.image:
            print("error: svg draws one image: pass --image NAME", file=sys.stderr)
            return EXIT_ERROR
        try:
            data = graph.to_svg(graphs[0])
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
    else:
        render = graph.to_json if args.format == "json" else graph.to_dot
        data = "".join(render(g) for g in graphs).encode("utf-8")
    if args.output:
        from pathlib import Path

        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return EXIT_FINDINGS if outcome.conflicts else EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    import difflib
    from pathlib import Path

    from aligner import lock, matrix
    from aligner.errors import InputError
    from aligner.atomic import atomic_write
    from aligner.paths import read_regular

    if args.check and not args.output:
        print("error: --check needs --output FILE: the file to compare with", file=sys.stderr)
        return EXIT_ERROR
    fmt = args.format or ("json" if args.output and args.output.endswith(".json") else "md")
    cfg = _load_config(args)
    path = cfg.lock_path()
    if not path.exists():
        raise InputError(_short(str(path)), None, "no lock: run `aligner lock` first")
    data = lock.read(path)
    fresh = lock.matches_inputs(cfg, data)
    if not fresh:
        print(f"note: {_short(str(path))} is stale (its Dockerfiles or config changed since `aligner lock`); "
              "reporting it as written", file=sys.stderr)
    m = matrix.build(cfg, data)
    text = (matrix.to_json(m) if fmt == "json" else matrix.to_markdown(m)).encode("utf-8")
    if not args.output:
        sys.stdout.buffer.write(text)
        return EXIT_OK
    out = Path(args.output).resolve()
    regenerate = f"run `aligner report --output {args.output}`" + (" after `aligner lock`" if not fresh else "")
    old = read_regular(out, 16 << 20) if out.exists() else None
    if args.check:
        if old is None:
            print(f"{args.output}: missing; {regenerate}", file=sys.stderr)
            return EXIT_FINDINGS
        if old != text:
            print(f"{args.output}: stale (it is not what `aligner report` makes of {_short(str(path))}); "
                  f"{regenerate}", file=sys.stderr)
            diff = difflib.unified_diff(old.decode("utf-8", "replace").splitlines(), text.decode().splitlines(),
                                        f"{args.output} (on disk)", f"{args.output} (now)", lineterm="", n=1)
            sys.stderr.write("\n".join(diff) + "\n")
            return EXIT_FINDINGS
        print(f"{args.output}: up to date", file=sys.stderr)
        return EXIT_OK
    if old == text:
        print(f"{args.output}: unchanged", file=sys.stderr)
        return EXIT_OK
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, text)
    print(f"{args.output}: written", file=sys.stderr)
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    import os

    from aligner.check import output
    from aligner.check.engine import Settings, run
    from aligner.check.model import docs, rank

    cfg = _load_config(args)
    unknown = [c for c in (*args.select, *args.extend_select, *args.ignore)
               if c != "ALL" and not any(code.startswith(c) for code in docs())]
    if unknown:
        print(f"error: unknown rule code {unknown[0]!r} (see `aligner rules list`)", file=sys.stderr)
        return EXIT_ERROR
    paths = args.paths or [_short(p) for p in cfg.dockerfile_paths()] or ["."]
    outcome = run(paths, cfg, Settings(args.select, args.ignore, args.extend_select, not args.no_cache))
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if fmt == "text":
            output.text(outcome, out.write, color=out.isatty())
        else:
            render = {"concise": output.concise, "json": output.to_json, "sarif": output.sarif,
                      "github": output.github, "junit": output.junit}[fmt]
            out.write(render(outcome))
    finally:
        if args.output:
            out.close()
    if fmt not in ("json", "sarif", "github", "junit"):
        for e in outcome.errors:
            print(f"error: {e}", file=sys.stderr)
    for note in outcome.notes:
        print(f"note: {note}", file=sys.stderr)
    if outcome.errors:
        return EXIT_ERROR
    failing = [f for f in outcome.findings if rank(f.severity) >= rank(args.fail_on)]
    return EXIT_OK if args.exit_zero or not failing else EXIT_FINDINGS


def _cmd_fix(args: argparse.Namespace) -> int:
    import contextlib

    from aligner import repolock

    if args.report and not args.report.endswith((".md", ".json")):
        print("error: --report must name a .md or .json file", file=sys.stderr)
        return EXIT_ERROR
    cfg = _load_config(args)
    with repolock.held(cfg.root) if args.apply else contextlib.nullcontext():
        return _fix(args, cfg)


def _fix(args: argparse.Namespace, cfg) -> int:
    from pathlib import Path

    from aligner import fix, fixreport, lock
    from aligner.atomic import atomic_write
    from aligner.components import catalog
    from aligner.snapshot import Snapshot

    cat, snap = catalog(), Snapshot.load()
    lock_path, note = cfg.lock_path(), None
    recorded = lock.read(lock_path) if lock_path.exists() else None
    prefer = lock.pins_of(recorded) if recorded else None
    outcome = lock.compute(cfg, cat, snap, allow_insecure=args.allow_insecure, prefer=prefer)
    if recorded is None or recorded.get("meta", {}).get("inputs") != outcome.inputs:
        state = "missing" if recorded is None else "stale"
        note = f"{_short(str(lock_path))} is {state}: fixing to a lock computed in memory (run `aligner lock`)"
        if recorded is not None:  # a stale lock's versions are no promise: resolve afresh
            prefer = None
            outcome = lock.compute(cfg, cat, snap, allow_insecure=args.allow_insecure)
    if outcome.conflicts:
        _print_conflicts(outcome)
        return EXIT_FINDINGS
    only = [os.path.abspath(p) for p in args.paths] or None
    configured = {os.path.abspath(str(cfg.root / d)) for i in cfg.images.values() for d in i.dockerfiles}
    stray = [p for p, a in zip(args.paths, only or []) if a not in configured]
    if stray:
        print(f"error: {stray[0]}: not a Dockerfile of any configured image", file=sys.stderr)
        return EXIT_ERROR
    plan = fix.plan(cfg, outcome, cat, args.unsafe_fixes, note, only)
    if note:
        print(f"note: {note}", file=sys.stderr)
    before = _check_findings(cfg) if args.report else []
    listing, text = fixreport.edits_listing(plan), fixreport.diff(plan)
    sys.stderr.write(listing)
    sys.stdout.write(fixreport.colour(text) if sys.stdout.isatty() else text)
    if args.apply and plan.changed():
        written = fix.apply(plan, cfg.root)
        fresh = lock.compute(cfg, cat, snap, allow_insecure=args.allow_insecure, prefer=prefer)
        n_edits = sum(1 for f in plan.files for e in f.edits if not e.aux)
        print(f"applied {n_edits} edit{'s' if n_edits != 1 else ''} to {len(written)} "
              f"file{'s' if len(written) != 1 else ''}", file=sys.stderr)
        if fresh.conflicts:
            _print_conflicts(fresh)
        else:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(lock_path, fresh.text)
            print(f"{_short(str(lock_path))} refreshed", file=sys.stderr)
    elif args.apply and note:  # no file to change, but the lock is missing or stale: what `aligner lock` writes
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(lock_path, outcome.text)
        print(f"{_short(str(lock_path))} refreshed", file=sys.stderr)
    if args.report:
        after = _check_findings(cfg) if args.apply else None
        fixed, left = _classify(before, after, plan)
        body = (fixreport.to_markdown(plan, fixed, left, args.apply) if args.report.endswith(".md")
                else fixreport.to_json(plan, fixed, left))
        atomic_write(Path(args.report).resolve(), body.encode("utf-8"))
    if not plan.changed():
        print("nothing to change", file=sys.stderr)
        return EXIT_OK
    return EXIT_OK if args.exit_zero else EXIT_FINDINGS


def _check_findings(cfg):
    from aligner.check.engine import Settings, run

    paths = [_short(p) for p in cfg.dockerfile_paths()]
    return [f.to_json() for f in run(paths, cfg, Settings(use_cache=False)).findings]


def _classify(before, after, plan):
    """Findings the fix removes, and those it leaves (with why)."""
    from aligner.check.model import docs
    from aligner.fixreport import rel

    key = lambda f: (f["path"], f["line"], f["code"])
    if after is not None:
        gone = {key(f) for f in before} - {key(f) for f in after}
    else:  # not applied: a finding on a line the fix edits counts as fixed
        edited = {(rel(fp.path), e.pin.line) for fp in plan.files for e in fp.edits}
        gone = {key(f) for f in before if (f["path"], f["line"]) in edited and f["code"] != "AL012"}
    skipped = {(rel(fp.path), e.pin.line): e.unsafe for fp in plan.files for e in fp.skipped}
    fixed = [f for f in before if key(f) in gone]
    left = []
    for f in before:
        if key(f) in gone:
            continue
        why = skipped.get((f["path"], f["line"]))
        kind, _, how = docs()[f["code"]]["fix"].partition(":")  # "none: ...", "safe: ..." (rules/codes.toml)
        said = "no automatic fix" if kind.strip().startswith("none") else "not fixed by this run"
        f = dict(f, why=f"unsafe fix not applied: {why}" if why else f"{said}: {how.strip() or kind}")
        left.append(f)
    return fixed, left
