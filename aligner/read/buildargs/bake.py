"""Build arguments in Docker Bake files (`docker-bake.hcl`): each target's `dockerfile`, `context`,
`target` and `args`, with `inherits` merged (a parent's args first, the target's own over them) and
`variable` defaults followed (`args = { VLLM_VERSION = VLLM_VERSION }`, or `"${VLLM_VERSION}"`).

HCL is parsed by python-hcl2, whose parse tree keeps every token's place in the file, so a value is
traced to its bytes: a string literal inside its quotes, a number. Anything computed (a function, a
conditional, a variable the file does not declare) is known only when bake runs. A variable's default
is only a default (the environment may override it), as `${VAR:-default}` is in a script. A target
that other targets inherit from is a base, not a build of its own.
"""

from __future__ import annotations

import re
from typing import Dict, List

from aligner.read.buildargs.model import BuildArg, Invocation, in_context, unknown
from aligner.read.buildargs.script import source
from aligner.read.buildargs.yamlnodes import get, scalar, tree as yaml_tree
from aligner.read.dockerfile.lexer import Source
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.base.errors import InputError

NAMES = re.compile(r"(^|/)docker-bake[^/]*\.(hcl|json)$")


def is_bake(path: str) -> bool:
    return bool(NAMES.search(path.replace("\\", "/")))


def read(path: str, data: bytes) -> List[Invocation]:
    return read_json(path, data) if path.endswith(".json") else read_hcl(path, data)


def read_json(path: str, data: bytes) -> List[Invocation]:
    """A JSON bake file (`{"variable": {...}, "target": {...}}`), read with PyYAML's composer so that every
    string keeps its place (JSON is YAML); `${VAR}` in a string is the variable's default."""
    import yaml

    src, root = yaml_tree(path, data, "bake file")
    values: Dict[str, Traced] = {}
    variables = get(root, "variable")
    for k, v in (variables.value if isinstance(variables, yaml.MappingNode) else []):
        default = get(v, "default")
        values[k.value] = scalar(default, src) if isinstance(default, yaml.ScalarNode) else unknown(k.value)
    targets: Dict[str, dict] = {}
    found = get(root, "target")
    for k, v in (found.value if isinstance(found, yaml.MappingNode) else []):
        t: dict = {"_line": k.start_mark.line + 1, "args": []}
        for key in ("dockerfile", "context", "target"):
            node = get(v, key)
            if isinstance(node, yaml.ScalarNode):
                t[key] = _interpolate(scalar(node, src), values)
        inherits = get(v, "inherits")
        t["inherits"] = [i.value for i in (inherits.value if isinstance(inherits, yaml.SequenceNode) else [])
                         if isinstance(i, yaml.ScalarNode)]
        args = get(v, "args")
        for ak, av in (args.value if isinstance(args, yaml.MappingNode) else []):
            if isinstance(ak, yaml.ScalarNode) and isinstance(av, yaml.ScalarNode):
                t["args"].append((ak.value, _interpolate(scalar(av, src), values), ak.start_mark.line + 1,
                                  ak.start_mark.column + 1))
        targets[k.value] = t
    return _invocations(path, targets)


def _invocations(path: str, targets: Dict[str, dict]) -> List[Invocation]:
    """One build per target that no other inherits from. A target is {"_line", "inherits": [names], "args":
    [(key, value, line, column)], and "dockerfile", "context", "target" when it sets them}, values Traced."""
    bases = {p for t in targets.values() for p in t["inherits"]}
    out = []
    for name, t in targets.items():
        if name in bases:
            continue
        merged = _merged(name, targets, set())
        known = lambda key: None if key not in merged or merged[key].unknown else merged[key].text
        inv = Invocation(path, t["_line"], "bake", None, None, target=known("target"))
        inv.context = known("context") or "."
        inv.dockerfile = in_context(inv.context, known("dockerfile") or "Dockerfile")
        inv.args = [BuildArg(key, value, line, path, column) for key, value, line, column in merged["args"]]
        out.append(inv)
    return out


def _merged(name: str, targets: Dict[str, dict], seen: set) -> dict:
    """A target with what it inherits: parents first, its own attributes (and args) over them."""
    t = targets.get(name, {})
    if name in seen or not t:
        return {"args": []}
    out: dict = {}
    args: Dict[str, tuple] = {}
    for parent in t["inherits"]:
        p = _merged(parent, targets, seen | {name})
        out.update({k: v for k, v in p.items() if k != "args"})
        args.update({a[0]: a for a in p["args"]})
    out.update({k: v for k, v in t.items() if k not in ("args", "inherits", "_line")})
    args.update({a[0]: a for a in t["args"]})
    out["args"] = list(args.values())
    return out


def _interpolate(value: Traced, values: Dict[str, Traced]) -> Traced:
    """`${VAR}` in a JSON bake string: the variable's default; an undeclared one is unknown."""
    out, pos = [], 0
    for m in re.finditer(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", value.text):
        out.append(value.slice(pos, m.start()))
        out.append(values[m.group(1)].with_via(m.group(1)) if m.group(1) in values else unknown(m.group(1)))
        pos = m.end()
    out.append(value.slice(pos, len(value.text)))
    return Traced(p for part in out for p in part.pieces)


def read_hcl(path: str, data: bytes) -> List[Invocation]:
    import hcl2
    from lark import Tree
    from lark.exceptions import LarkError

    src = source(path, data)
    try:
        parsed = hcl2.parses_to_tree(src.text)
    except (LarkError, RecursionError) as exc:
        line = getattr(exc, "line", None)
        raise InputError(path, line if isinstance(line, int) and line > 0 else None,
                         f"not a readable bake file: {str(exc).splitlines()[0][:200]}") from None
    blocks = [c for c in _body(parsed) if isinstance(c, Tree) and c.data == "block"]
    variables: Dict[str, object] = {}
    written: Dict[str, tuple] = {}
    for block in blocks:
        kind, label, body = _block(block)
        attrs = {name: expr for name, expr in _attributes(body)}
        if kind == "variable" and label:
            variables[label] = attrs.get("default")
        elif kind == "target" and label:
            written[label] = (attrs, block.meta.line if not block.meta.empty else 1)
    values = {name: _value(expr, src, {}, variables) if expr is not None else unknown(name)
              for name, expr in variables.items()}
    targets: Dict[str, dict] = {}
    for label, (attrs, line) in written.items():
        t: dict = {"_line": line, "inherits": _strings(attrs.get("inherits")),
                   "args": [(k, _value(e, src, values, variables), ln, col) for k, e, ln, col in _object(attrs.get("args"))]}
        t.update({key: _value(attrs[key], src, values, variables)
                  for key in ("dockerfile", "context", "target") if key in attrs})
        targets[label] = t
    return _invocations(path, targets)


def _body(tree):
    body = next((c for c in tree.children if getattr(c, "data", None) == "body"), None)
    return body.children if body is not None else []


def _block(block):
    from lark import Tree

    parts = [c for c in block.children if isinstance(c, Tree)]
    kind = _token_text(parts[0]) if parts else None
    label = None
    if len(parts) > 1 and parts[1].data == "string":
        label = "".join(_token_text(p) for p in parts[1].children if getattr(p, "data", None) == "string_part")
    body = next((p for p in parts if p.data == "body"), None)
    return kind, label, body


def _token_text(tree) -> str:
    from lark import Token

    return "".join(str(c) for c in tree.children if isinstance(c, Token)) if hasattr(tree, "children") else str(tree)


def _attributes(body):
    from lark import Tree

    for c in (body.children if body is not None else []):
        if isinstance(c, Tree) and c.data == "attribute":
            parts = [p for p in c.children if isinstance(p, Tree)]
            yield _token_text(parts[0]), parts[-1]


def _object(expr) -> List[tuple]:
    """(key, value expression, line, column) of each element of an `{ K = V }` object."""
    from lark import Tree

    obj = _find(expr, "object")
    out = []
    for elem in (obj.children if obj is not None else []):
        if isinstance(elem, Tree) and elem.data == "object_elem":
            parts = [p for p in elem.children if isinstance(p, Tree)]
            key_tree = parts[0]
            key = _plain(key_tree)
            meta = elem.meta
            out.append((key, parts[-1], meta.line if not meta.empty else 1, meta.column if not meta.empty else 1))
    return out


def _plain(tree) -> str:
    """An object key as written: `K` or `"K"`."""
    from lark import Token

    return "".join(str(t) for t in tree.scan_values(lambda v: isinstance(v, Token)) if str(t) != '"').strip()


def _find(tree, data: str):
    from lark import Tree

    if tree is None or not isinstance(tree, Tree):
        return None
    if tree.data == data:
        return tree
    kids = [c for c in tree.children if isinstance(c, Tree)]
    return _find(kids[0], data) if len(kids) == 1 else None


def _strings(expr) -> List[str]:
    """The strings of `["a", "b"]` (inherits)."""
    from lark import Token

    if expr is None:
        return []
    return [str(t) for t in expr.scan_values(lambda v: isinstance(v, Token) and v.type not in ("DBLQUOTE", "COMMA"))
            if str(t) not in ('"', "[", "]", ",") and str(t).strip()]


def _value(expr, src: Source, values: Dict[str, Traced], declared) -> Traced:
    """An expression as traced text: a string (its literal parts and `${VAR}` interpolations), a number, a
    declared variable; anything else is unknown."""
    from lark import Token, Tree

    term = expr
    while isinstance(term, Tree) and term.data in ("expr_term", "expression") and len(term.children) == 1:
        term = term.children[0]
    if isinstance(term, Tree) and term.data == "string":
        pieces: List[Piece] = []
        for part in term.children:
            if not isinstance(part, Tree) or part.data != "string_part":
                continue
            kid = part.children[0] if part.children else None
            if isinstance(kid, Token):
                pieces.append(Piece(str(kid), kid.start_pos, kid.end_pos, origin=src.path))
            elif isinstance(kid, Tree) and kid.data == "interpolation":
                inner = next((c for c in kid.children if isinstance(c, Tree)), None)
                pieces += _value(inner, src, values, declared).pieces
        return Traced(pieces) if pieces else Traced([Piece("", term.meta.start_pos + 1 if not term.meta.empty else -1,
                                                            term.meta.start_pos + 1 if not term.meta.empty else -1,
                                                            origin=src.path)])
    if isinstance(term, Tree) and term.data in ("int_lit", "float_lit"):
        tok = next(term.scan_values(lambda v: isinstance(v, Token)), None)
        if tok is not None:
            return Traced([Piece(str(tok), tok.start_pos, tok.end_pos, origin=src.path)])
    if isinstance(term, Tree) and term.data == "identifier":
        name = _token_text(term)
        if name in values:
            return values[name].with_via(name)
        return unknown(name)
    return unknown()
