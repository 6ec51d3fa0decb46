"""Imports run one way, in the order of the flow: base -> know -> read -> relate -> decide -> act -> face.

A module may import its own layer and the layers below it, never one above; no modules import each
other in a loop. Imports inside functions count as much as those at the top of a file.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent.parent / "aligner"
LAYERS = ("base", "know", "read", "relate", "decide", "act", "face")
FACE = {"aligner.cli", "aligner.__main__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> str:
    """The layer of a module: its folder under aligner/ (commands/ and the CLI are the face)."""
    if module in FACE or module.startswith("aligner.commands"):
        return "face"
    if module == "aligner":
        return "base"  # the package itself: only its __version__
    if module == "aligner.rules" or module.startswith("aligner.rules."):
        return "know"  # rules/ is knowledge as data
    top = module.split(".")[1]
    return top if top in LAYERS else "?"


def imports(path: Path, here: str = ""):
    """(line, imported module) for every import of aligner's own modules in a file."""
    tree = ast.parse(path.read_text(), str(path))
    here = here or module_name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("aligner"):
                    yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative imports, resolved against this module's package
                pkg = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
                base = ".".join(pkg[:len(pkg) - node.level + 1] + [node.module])
            if not base.startswith("aligner"):
                continue
            for a in node.names:  # `from aligner.know import facts` imports the module aligner.know.facts
                sub = f"{base}.{a.name}"
                yield node.lineno, sub if known_module(sub) else base


def known_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    return (PACKAGE / rel).with_suffix(".py").is_file() or (PACKAGE / rel / "__init__.py").is_file()


SOURCES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_a_layer():
    lost = [module_name(p) for p in SOURCES if layer(module_name(p)) == "?"]
    assert not lost, f"modules outside base/ know/ read/ relate/ decide/ act/ commands/: {lost}"


def against_the_flow(path: Path, here: str):
    mine = LAYERS.index(layer(here))
    return [f"line {line}: {here} ({layer(here)}) imports {name} ({layer(name)})"
            for line, name in imports(path, here) if layer(name) in LAYERS and LAYERS.index(layer(name)) > mine]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_import_runs_against_the_flow(path):
    bad = against_the_flow(path, module_name(path))
    assert not bad, "\n".join(bad)


def test_no_modules_import_each_other_in_a_loop():
    graph = {module_name(p): {name for _, name in imports(p) if name != module_name(p)} for p in SOURCES}
    edges = {m: {n for n in targets if n in graph} for m, targets in graph.items()}
    state, loops = {}, []

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                loops.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not loops, "\n".join(" -> ".join(loop) for loop in loops)


def test_the_checker_sees_an_import_against_the_flow(tmp_path):
    """The check itself: knowledge that imports a decision, lazily inside a function, is reported; an
    import of the floor is not."""
    fake = tmp_path / "fake.py"
    fake.write_text("from aligner.base.errors import InputError\n\n\ndef f():\n    from aligner.decide import lock\n"
                    "    return lock\n")
    bad = against_the_flow(fake, "aligner.know.fake")
    assert bad == ["line 5: aligner.know.fake (know) imports aligner.decide.lock (decide)"]
