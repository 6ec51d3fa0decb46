"""`verify` results as a terminal table per image, Markdown for a pull request, or JSON."""

from __future__ import annotations

import json
from typing import List, Sequence

from aligner.act.verify.builds import Result
from aligner.base.paths import display

MARK = {True: "ok", False: "MISMATCH", None: "not probed"}


def summary(results: List[Result]) -> str:
    bad = [r for r in results if not r.ok]
    if not bad:
        n = len(results)
        return f"verified: {n} image build{'s match' if n != 1 else ' matches'} the lock"
    failed = sum(1 for r in bad if r.error)
    return (f"{len(bad)} of {len(results)} image builds do not match the lock"
            + (f" ({failed} failed to build or probe)" if failed else ""))


def text(results: List[Result], console) -> None:
    from rich.table import Table

    for r in results:
        t = r.target
        head = f"{t.image} ({t.platform}) {t.tag}, {r.seconds:.0f} s"
        if r.error:
            console.print(f"[bold red]{head}: {r.error}[/]")
            for line in r.tail:
                console.print(f"  {line}", markup=False, highlight=False)
            console.print(f"  full log: {display(r.log or '')}", markup=False)
            continue
        table = Table(title=head, title_justify="left")
        for col in ("component", "locked", "found", "ok"):
            table.add_column(col)
        for row in r.rows:
            style = {True: "green", False: "bold red", None: "dim"}[row.ok]
            table.add_row(row.component, row.locked, row.found or "-", f"[{style}]{MARK[row.ok]}[/]")
        console.print(table)
        for row in r.rows:
            if row.ok is False:
                console.print(f"  {t.image}: {row.component} is locked at {row.locked} but the image has "
                              f"{row.found or 'none'} ({row.how})", markup=False, highlight=False)
    console.print(summary(results), markup=False, highlight=False)


def markdown(results: List[Result], resolved: Sequence = ()) -> str:
    out = ["# aligner verify", ""]
    if results:
        out += [summary(results), ""]
    for r in results:
        t = r.target
        out += [f"## {t.image} ({t.platform})", ""]
        if r.error:
            out += [f"**{r.error}**; full log: `{display(r.log or '')}`", "", "```"] + r.tail + ["```", ""]
            continue
        out += ["| component | locked | found | ok |", "|---|---|---|---|"]
        out += [f"| {row.component} | {row.locked} | {row.found or '-'} | {MARK[row.ok]} |" for row in r.rows]
        out.append("")
    text = "\n".join(out) + "\n" if results else "# aligner verify\n"
    if resolved:
        text += "\n## resolve (uv)\n\n| image | platform | python | installs together |\n|---|---|---|---|\n"
        text += "".join(f"| {r.image} | {r.platform} | {r.python} | {'yes' if r.ok else 'NO'} |\n" for r in resolved)
        for r in resolved:
            if not r.ok:
                text += f"\n### {r.image} ({r.platform})\n\n```\n{r.detail}\n```\n"
    return text


def to_json(results: List[Result], resolved: Sequence = ()) -> str:
    body = {"version": 1, "ok": all(r.ok for r in results) and all(r.ok for r in resolved)}
    if results:
        body["images"] = [
            {"image": r.target.image, "platform": r.target.platform, "tag": r.target.tag, "ok": r.ok, "error": r.error,
             "log": display(r.log or "") if r.log else None, "seconds": round(r.seconds, 1),
             "build_args": [s.args for s in r.target.steps],
             "rows": [row.to_json() for row in r.rows]} for r in results]
    body["resolve"] = [r.to_json() for r in resolved]
    return json.dumps(body, indent=2) + "\n"


FORMATS = {"md": markdown, "json": to_json}  # `aligner verify --report FILE.md|FILE.json`
