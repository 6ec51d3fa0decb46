"""`aligner rules list | show | refresh`: a user's look at what aligner knows."""

from __future__ import annotations

import re
from collections import Counter
from typing import List, Optional

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from aligner.know import facts
from aligner.know.components import Catalog, Component
from aligner.know.snapshot import SnapRelease, Snapshot

_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def console():
    from rich.console import Console

    c = Console(highlight=False)
    return c if c.is_terminal else Console(highlight=False, width=160)


def _table(*columns):
    from rich.table import Table

    t = Table(show_edge=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    return t


def probe_text(comp: Component) -> str:
    p = comp.probe_dict
    kind = p.get("kind", "none")
    if kind == "distribution":
        return f"importlib.metadata.version({p['name']!r}) (no import of the package)"
    if kind == "command":
        return "run " + " ".join(p["argv"])
    if kind == "cuda":
        return "/usr/local/cuda/version.json, else nvcc --version, else $CUDA_VERSION"
    if kind == "python":
        return "the interpreter's sys.version_info"
    if kind == "tag":
        return "read from the image tag (no probe inside the image)"
    return kind


def known_count(comp: Component, snap: Snapshot) -> str:
    if comp.versions == "index":
        rel = snap.releases(comp.index[0]) if comp.index else []
        return f"{len(rel)} releases, newest {rel[-1].version}" if rel else "no snapshot"
    if comp.versions.startswith("table:"):
        return f"{len(facts.table(comp.versions[6:]))} table rows"
    return "-"


def print_list(cat: Catalog, snap: Snapshot) -> None:
    t = _table("component", "versions from", "known", "probe")
    for name in cat.names():
        comp = cat.components[name]
        source = f"index: {', '.join(comp.index)}" if comp.versions == "index" else comp.versions
        t.add_row(name, source, known_count(comp, snap), probe_text(comp))
    out = console()
    out.print(t)
    tables = facts.tables()
    if tables:
        out.print("\nfact tables: " + ", ".join(f"{k} ({len(v)} rows)" for k, v in sorted(tables.items())))


def related(rel: SnapRelease, cat: Catalog, own: str) -> dict:
    """Requirement text per stack component, e.g. {'torch': '==2.8.0', 'flashinfer-python': '==0.3.0 [flashinfer]'}."""
    out: dict = {}
    for req in rel.requirements():
        comp = cat.by_pip(req.name) or canonicalize_name(req.name)
        if comp == own:
            continue
        text = str(req.specifier) or "any"
        extra = _extra_of(req)
        if extra:
            text += f" [{extra}]"
        out.setdefault(comp, [])
        if text not in out[comp]:
            out[comp].append(text)
    return {k: "; ".join(v) for k, v in out.items()}


def _extra_of(req: Requirement) -> Optional[str]:
    m = _EXTRA.search(str(req.marker)) if req.marker is not None else None
    return m.group(1) if m else None


def print_component(cat: Catalog, snap: Snapshot, comp: Component, version: Optional[str], limit: int) -> int:
    out = console()
    out.print(f"[bold]{comp.name}[/bold]")
    rows = [
        ("ARG/ENV names", ", ".join(f"{a}_*" for a in _aliases(cat, comp.name)) or "-"),
        ("pip names", ", ".join(comp.pip) or "-"),
        ("images", ", ".join(i.repository for i in cat.images.values() if comp.name in i.components) or "-"),
        ("git repositories", ", ".join(comp.repos) or "-"),
        ("versions from", comp.versions + (f" ({', '.join(comp.index)}, snapshot since {comp.since})" if comp.index else "")),
        ("probe", probe_text(comp)),
    ]
    for k, v in rows:
        out.print(f"  {k:17} {v}")
    if comp.versions.startswith("table:"):
        return _print_fact_table(out, comp.versions[6:])
    if comp.versions != "index" or not comp.index:
        return 0
    project = comp.index[0]
    releases = snap.releases(project)
    if version:
        rel = snap.release(project, version)
        if rel is None:
            out.print(f"\n{comp.name} {version} is not a release in the snapshot (newest: "
                      f"{releases[-1].version if releases else 'none'}); try --online")
            return 1
        out.print(f"\n[bold]{project} {rel.version}[/bold]  requires-python {rel.requires_python or '(any)'}"
                  f"  wheels: {', '.join(rel.platforms) or 'none (sdist only)'}{'  YANKED' if rel.yanked else ''}")
        if rel.requires_dist is None:
            out.print("  requirements unknown: the index has no metadata for an sdist-only release")
        for line in rel.requires_dist or ():
            out.print(f"  {line}")
        return 0
    columns = _columns(cat, releases, comp.name)
    t = _table("version", "requires-python", *columns, "wheels")
    for rel in list(reversed(releases))[:limit]:
        rel_map = related(rel, cat, comp.name)
        cells = [rel_map.get(c, "-" if rel.requires_dist is not None else "?") for c in columns]
        plats = ", ".join(p.split("/")[1] for p in rel.platforms) or "sdist"
        t.add_row(rel.version + (" (yanked)" if rel.yanked else ""), rel.requires_python or "", *cells, plats)
    out.print(t)
    if len(releases) > limit:
        out.print(f"{len(releases) - limit} older releases not shown (--all shows them)")
    return 0


def _aliases(cat: Catalog, name: str) -> List[str]:
    return [a for a, c in cat._aliases.items() if c == name]


def _columns(cat: Catalog, releases: List[SnapRelease], own: str) -> List[str]:
    """The stack components this component's releases most often require."""
    count: Counter = Counter()
    for rel in releases:
        for req in rel.requirements():
            comp = cat.by_pip(req.name)
            if comp and comp != own:
                count[comp] += 1
    ordered = [c for c, _ in count.most_common()]
    return sorted(ordered[:4], key=lambda c: (c != "torch", ordered.index(c)))


def _print_fact_table(out, key: str) -> int:
    rows = facts.table(key)
    if not rows:
        out.print(f"\nno rows in {key}")
        return 0
    keys = [k for k in rows[0] if k != "source"]
    t = _table(*keys)
    for row in rows:
        t.add_row(*[", ".join(v) if isinstance(v, list) else str(v) for v in (row.get(k, "") for k in keys)])
    out.print(t)
    out.print(f"sources: {len({r['source'] for r in rows})} documents; `aligner rules show {key} --sources` lists them")
    return 0


def print_tables(key_prefix: str, sources: bool) -> int:
    """Fact tables named `FILE` or `FILE.TABLE`; 1 when there is none."""
    out = console()
    keys = [k for k in sorted(facts.tables()) if k == key_prefix or k.startswith(key_prefix + ".")]
    for key in keys:
        out.print(f"[bold]{key}[/bold] (rules/{key.split('.')[0]}.toml)")
        if sources:
            for n, row in enumerate(facts.table(key), 1):
                out.print(f"  row {n}: {row['source']}")
        else:
            _print_fact_table(out, key)
    return 0 if keys else 1

