"""Build arguments in Compose files: `services.NAME.build` with its `context`, `dockerfile` and `args`.

`args` is a map (`VLLM_VERSION: 0.10.2`) or a list (`- VLLM_VERSION=0.10.2`); a value may interpolate
(`${VLLM_VERSION:-0.10.2}`: with no .env beside the file giving VLLM_VERSION, the default is the value,
written where the default is). YAML is read with PyYAML's composer, which gives every scalar's place
in the file, so each value is traced to its bytes; anchors and merge keys (`<<: *common`) resolve to
the place they are written. A value the environment gives at build time is unknown.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional

from aligner.read.buildargs.model import BuildArg, Invocation, in_context, unknown
from aligner.read.buildargs.script import source
from aligner.read.buildargs.yamlnodes import get, scalar, tree
from aligner.read.dockerfile.lexer import Source
from aligner.read.dockerfile.traced import Piece, Traced

NAMES = re.compile(r"(^|/)(docker-)?compose(\.[^/]*)?\.ya?ml$")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\$))")


def is_compose(path: str) -> bool:
    return bool(NAMES.search(path))


def read(path: str, data: bytes, env: Optional[Dict[str, Traced]] = None) -> List[Invocation]:
    """Every service build of the file with its args; `env` is what a .env file beside it sets."""
    import yaml

    src, root = tree(path, data, "Compose file")
    services = get(root, "services")
    out = []
    if not isinstance(services, yaml.MappingNode):
        return out
    for key, service in services.value:
        build = get(service, "build")
        if build is None:
            continue
        inv = Invocation(path, key.start_mark.line + 1, "compose", None, None)
        if isinstance(build, yaml.ScalarNode):
            inv.context = build.value
            out.append(inv)
            continue
        context, dockerfile, target = (get(build, k) for k in ("context", "dockerfile", "target"))
        inv.context = context.value if isinstance(context, yaml.ScalarNode) else "."
        inv.dockerfile = in_context(inv.context, dockerfile.value if isinstance(dockerfile, yaml.ScalarNode)
                                    else "Dockerfile")
        inv.target = target.value if isinstance(target, yaml.ScalarNode) else None
        inv.args = list(_args(get(build, "args"), src, env or {}))
        out.append(inv)
    return out


def _args(node, src: Source, env: Dict[str, Traced]):
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value != "<<" and isinstance(v, yaml.ScalarNode):
                value = scalar(v, src)
                yield BuildArg(k.value, _interpolate(value, env), k.start_mark.line + 1, src.path,
                               k.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                continue
            text = scalar(item, src)
            eq = text.text.find("=")
            name = text.text[:eq] if eq > 0 else text.text
            value = text.slice(eq + 1, len(text.text)) if eq > 0 else unknown()  # `- NAME`: the environment's
            yield BuildArg(name, _interpolate(value, env), item.start_mark.line + 1, src.path,
                           item.start_mark.column + 1)


def _interpolate(value: Traced, env: Dict[str, Traced]) -> Traced:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME-default}` and `$$`, each piece keeping its place."""
    text, out, pos = value.text, [], 0
    for m in _VAR.finditer(text):
        out.append(value.slice(pos, m.start()))
        name = m.group(1) or m.group(4)
        if m.group(5):  # `$$` is a `$`
            out.append(value.slice(m.start() + 1, m.end()))
        elif name in env:
            out.append(env[name])
        elif m.group(2) in (":-", "-"):
            start = m.start(3)
            out.append(_interpolate(value.slice(start, start + len(m.group(3))), env))
        else:
            out.append(unknown(name))
        pos = m.end()
    out.append(value.slice(pos, len(text)))
    return Traced(p for part in out for p in part.pieces)


def dotenv(path: str, data: bytes) -> Dict[str, Traced]:
    """`NAME=value` lines of a .env file (quotes taken off), each traced to its bytes."""
    src = source(path, data)
    out = {}
    for n, start in enumerate(src.line_starts):
        end = src.line_starts[n + 1] - 1 if n + 1 < len(src.line_starts) else len(src.text)
        line = src.text[start:end].rstrip("\r")
        m = re.match(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$", line)
        if not m or line.lstrip().startswith("#"):
            continue
        value, at = m.group(2), start + m.start(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value, at = value[1:-1], at + 1
        out[m.group(1)] = Traced([Piece(value, at, at + len(value), origin=path)])
    return out
