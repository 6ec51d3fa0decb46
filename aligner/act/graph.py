"""The constraint graph of an image: components as nodes, constraints as edges with provenance.

Built from a resolution: every constraint that bound a chosen version is an
edge from where it came from (the upstream, a Dockerfile line, another
component's index metadata) to the component it binds. Target GPUs are
nodes too, with an edge to CUDA saying whether that CUDA release compiles for
their compute capability (rules/cuda.toml, rules/gpus.toml).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import List, Optional

import networkx as nx

from aligner.know import facts
from aligner.decide.lock import LockedImage
from aligner.relate.problem import where as pin_where


def _kind(c) -> str:
    """What a root constraint comes from: the upstream, a target GPU, the hosts' driver, an arch list, or a
    Dockerfile's own pin."""
    if c.source.startswith("upstream"):
        return "upstream"
    if ": gpus " in c.source:
        return "gpu"
    if ": driver " in c.source:
        return "driver"
    return "arch" if c.verb == "needs" and "to compile it" in c.text else "dockerfile"


def build(li: LockedImage) -> "nx.MultiDiGraph":
    g = nx.MultiDiGraph(name=li.input.config.name)
    problem = li.input.problem
    for comp, choice in li.result.choices.items():
        cur = problem.current.get(comp)
        g.add_node(comp, kind="component", version=choice.version, why=li.why[comp],
                   current=cur.version if cur else None, current_source=cur.source if cur else None)
    for comp, choice in li.result.choices.items():
        for c, parent in choice.constraints:
            if parent is not None:
                source, kind = parent.component, ("rules" if "rules/" in c.source else "metadata")
            else:
                source, kind = c.source, _kind(c)
                g.add_node(source, kind=kind)
            meta = " (index metadata)" if parent and kind == "metadata" else ""
            g.add_edge(source, comp, spec=c.text, provenance=c.source + meta, kind=kind,
                       ok=c.specifier.contains(choice.version, prereleases=True))
    for pin in li.input.pins:
        if pin.component in li.result.choices:
            where = pin_where(pin, li.input.root)
            g.add_node(where, kind="dockerfile")
            g.add_edge(where, pin.component, spec=f"{pin.kind} {pin.value or repr(pin.value)}",
                       provenance=where, kind="pin", ok=pin.version == li.result.choices[pin.component].version)
    for comp, cur in problem.current.items():  # values a base image bundles (NGC torch)
        if "rules/ngc.toml" in cur.source and comp in li.result.choices:
            g.add_node(cur.source, kind="dockerfile")
            g.add_edge(cur.source, comp, spec=f"bundles {cur.version}", provenance=cur.source, kind="pin",
                       ok=cur.version == li.result.choices[comp].version)
    cuda = li.result.choices.get("cuda")
    for gpu in li.input.config.gpus:
        row = facts.gpu(gpu)
        node = f"GPU {gpu}"
        g.add_node(node, kind="gpu", compute=row["compute"] if row else None)
        if cuda and row:
            arch = facts.arch_row(cuda.version)
            ok = None if arch is None else row["compute"] in arch.get("compute", [])
            g.add_edge(node, "cuda", spec=f"compute capability {row['compute']}", kind="gpu", ok=ok,
                       provenance=f"rules/gpus.toml ({row['source']})")
    return g


def to_json(g) -> str:
    data = {"image": g.graph["name"],
            "nodes": [dict(id=n, **g.nodes[n]) for n in sorted(g.nodes)],
            "edges": sorted((dict(source=u, target=v, **d) for u, v, d in g.edges(data=True)),
                            key=lambda e: (e["target"], e["source"], e["spec"]))}
    return json.dumps(data, indent=2, sort_keys=True)


def _q(text: str) -> str:
    """A DOT quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g) -> str:
    q = _q
    lines = [f"digraph {q(g.graph['name'])} {{", "  rankdir=LR;", "  node [fontname=Helvetica, fontsize=10];",
             "  edge [fontname=Helvetica, fontsize=9];"]
    shapes = {"component": "box", "upstream": "note", "dockerfile": "folder", "gpu": "component", "arch": "cds",
              "driver": "component", "rules": "note"}
    for n in sorted(g.nodes):
        d = g.nodes[n]
        label = q(n)[:-1] + "\\n" + q(d["version"])[1:] if d.get("version") else q(n)
        lines.append(f"  {q(n)} [label={label}, shape={shapes.get(d.get('kind'), 'ellipse')}];")
    for u, v, d in sorted(g.edges(data=True), key=lambda e: (e[0], e[1], e[2]["spec"])):
        color = "black" if d.get("ok") in (True, None) else "red"
        lines.append(f"  {q(u)} -> {q(v)} [label={q(d['spec'])}, color={color}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_svg(g) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError("Graphviz's `dot` is not installed (Debian/Ubuntu: apt-get install graphviz)")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=to_dot(g).encode("utf-8"), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise RuntimeError("dot took over 60 s to draw the graph") from None
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def print_tree(graphs: List, console=None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    console = console or Console(highlight=False)
    for g in graphs:
        tree = Tree(f"[bold]{escape(g.graph['name'])}[/bold]")
        for n in sorted(x for x in g.nodes if g.nodes[x].get("kind") == "component"):
            d = g.nodes[n]
            moved = f" (pinned {escape(d['current'])})" if d.get("current") and d["current"] != d["version"] else ""
            branch = tree.add(f"{escape(n)} [bold]{escape(d['version'])}[/bold]{moved}")
            for u, _, e in sorted(g.in_edges(n, data=True), key=lambda e: (e[2]["kind"], e[0])):
                mark = "" if e.get("ok") in (True, None) else " [red](does not hold)[/red]"
                # rules/cuda.toml [[arch-added]] is text, not markup
                branch.add(f"{escape(e['spec'])}  [dim]← {escape(e['provenance'])}[/dim]{mark}", highlight=False)
        console.print(tree)


def find(graphs: List, image: Optional[str]):
    return [g for g in graphs if image is None or g.graph["name"] == image]


FORMATS = ("tree", "json", "dot", "svg")  # `aligner graph --format`: tree printed, svg one image at a time
