"""`aligner rules`: what aligner knows: rule codes, components with their releases, fact tables."""

from __future__ import annotations

import argparse
import sys

from aligner.base import status
from aligner.commands import options


def configure(rules: argparse.ArgumentParser) -> None:
    rules.description = (
        "What aligner knows about the stack: how each component is recognised, its releases "
        "and their requirements (from the index snapshot in rules/snapshot, offline), and "
        "static fact tables (NGC releases, CUDA drivers and architectures, GPUs), each row "
        "with its source."
    )
    rsub = rules.add_subparsers(dest="rules_command", metavar="ACTION")
    rlist = rsub.add_parser("list", help="every component and fact table")
    rlist.set_defaults(action=_list)
    show = rsub.add_parser(
        "show", help="one rule code, component (releases and their requirements) or fact table",
        description="Show a rule code (e.g. AL003), a component (e.g. vllm, vllm==0.10.2, flashinfer) or a fact "
                    "table (gpus, cuda.arch, ngc).",
    )
    show.add_argument("name", metavar="NAME[==VERSION]")
    show.add_argument("--all", action="store_true", help="every release, not only the newest 25")
    show.add_argument("--online", action="store_true", help="overlay live index data on the snapshot")
    show.add_argument("--sources", action="store_true", help="list each fact row's source document")
    show.add_argument("--index-url", help="index to read with --online (default: pip/uv configuration)")
    options.offline(show)
    show.set_defaults(action=_show)
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
    refresh.set_defaults(action=_refresh)
    rules.set_defaults(action=lambda a: (rules.print_help(), status.ERROR)[1])


def run(args: argparse.Namespace) -> int:
    return args.action(args)


def _list(args: argparse.Namespace) -> int:
    from aligner.know.components import catalog
    from aligner.act.rulesview import print_list
    from aligner.know.snapshot import Snapshot

    print_list(catalog(), Snapshot.load())
    return status.OK


def _show(args: argparse.Namespace) -> int:
    from aligner.know import facts
    from aligner.know.components import catalog
    from aligner.act.rulesview import print_component, print_tables
    from aligner.know.snapshot import Snapshot, build_project

    cat = catalog()
    name, _, version = args.name.partition("==")
    from aligner.know import codes

    if name.strip().upper() in codes.pages():
        code = name.strip().upper()
        print(f"{code} {codes.pages()[code]['name']} [{codes.pages()[code]['severity']}]\n")
        print(codes.text(code))
        return status.OK
    comp_name = cat.resolve(name.strip())
    if comp_name is None:
        if print_tables(name.strip(), args.sources) == 0:
            return status.OK
        known = ", ".join(cat.names() + sorted({k.split(".")[0] for k in facts.tables()}))
        print(f"error: unknown component or table {name!r}; known: {known}", file=sys.stderr)
        return status.ERROR
    comp = cat.components[comp_name]
    if args.sources and comp.versions.startswith("table:"):
        print_tables(comp.versions[6:], True)
        return status.OK
    snap = Snapshot.load()
    if args.online and comp.index:
        from aligner.know.index import IndexClient, IndexFetchError

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
            return status.ERROR
    found = print_component(cat, snap, comp, version.strip() or None, 10**9 if args.all else 25)
    return status.OK if found == 0 else status.ERROR


def _refresh(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from aligner.know.components import catalog
    from aligner.know.index import IndexClient, IndexFetchError
    from aligner.know.snapshot import build_project, default_dir, write_project

    cat = catalog()
    wanted = [(p, c.since) for c in cat.indexed() for p in c.index]
    if args.project:
        unknown = sorted(set(args.project) - {p for p, _ in wanted})
        if unknown:
            print(f"error: not an index project of the stack: {', '.join(unknown)}", file=sys.stderr)
            return status.ERROR
        wanted = [w for w in wanted if w[0] in args.project]
    out_dir = Path(args.out) if args.out else default_dir()
    try:
        client = IndexClient(args.index_url, workers=max(1, args.jobs), max_age=0)
    except IndexFetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return status.ERROR
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
    return status.ERROR if failed else status.OK
