"""`aligner pins` output: a rich table for people, stable JSON for tools."""

from __future__ import annotations

import json
import sys
from typing import List

from aligner.read.dockerfile.model import Dockerfile
from aligner.base.errors import InputError

JSON_FORMAT_VERSION = 1


def to_json(files: List[Dockerfile], errors: List[InputError]) -> dict:
    return {
        "version": JSON_FORMAT_VERSION,
        "pins": [pin.to_json() for f in files for pin in f.pins],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in errors],
    }


def print_json(files: List[Dockerfile], errors: List[InputError]) -> None:
    json.dump(to_json(files, errors), sys.stdout, indent=2)
    sys.stdout.write("\n")


def _note(pin) -> str:
    notes = []
    if pin.op and pin.op != "==":
        notes.append(f"op {pin.op}")
    if pin.via:
        notes.append(f"via {pin.via} (line {pin.use_line})")
    if not pin.visible:
        notes.append("ARG not redeclared in stage: empty at build time")
    return "; ".join(notes)


def print_table(files: List[Dockerfile], errors: List[InputError] = ()) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    table.add_column("location", no_wrap=True)
    for column in ("component", "value", "version", "kind", "stage", "note"):
        table.add_column(column, overflow="fold")
    count = 0
    for f in files:
        for pin in f.pins:
            count += 1
            table.add_row(
                f"{pin.path}:{pin.line}:{pin.column}",
                pin.component,
                pin.value if pin.value else '""',
                pin.version or f"({pin.form})",
                pin.kind,
                pin.stage if pin.stage is not None else "(global)",
                _note(pin),
            )
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=200)  # piped: one row per line
    if count:
        console.print(table)
    console.print(f"{count} pins in {len(files)} Dockerfiles")


FORMATS = {"table": print_table, "json": print_json}  # `aligner pins --format`: (files, errors) -> printed
