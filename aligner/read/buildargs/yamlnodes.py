"""YAML read for its places: Compose files, workflows and JSON bake files, each scalar traced to its bytes.

PyYAML's composer gives every node its start and end in the decoded text; a value written as it reads
(plain, or quoted with no escape) becomes a Traced piece there. Anchors and merge keys are followed.
"""

from __future__ import annotations

from typing import Tuple

from aligner.read.buildargs.script import source
from aligner.read.dockerfile.lexer import Source
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.base.errors import InputError


def tree(path: str, data: bytes, what: str) -> Tuple[Source, object]:
    """(the decoded file, its root node); a file YAML cannot read is an error naming its line."""
    import yaml

    src = source(path, data)
    try:
        return src, yaml.compose(src.text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise InputError(path, None, f"not a readable {what}: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise InputError(path, mark.line + 1 if mark else None,
                         f"not a readable {what}: {getattr(exc, 'problem', None) or exc}") from None


def get(node, key: str, seen=()):
    """The value of `key` in a mapping, merge keys (`<<: *common`) followed under the mapping's own keys."""
    import yaml

    if not isinstance(node, yaml.MappingNode) or any(node is s for s in seen):
        return None  # `build: &b {<<: *b}` merges itself: nothing more to find there
    found = None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == "<<":  # a merge key: the mapping it names, under ours
            merged = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for m in merged:
                got = get(m, key, (*seen, node))
                found = got if found is None else found
        elif isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return found


def scalar(node, src: Source) -> Traced:
    """A scalar's text, traced to its bytes when the file writes it as it reads (plain, or quoted with no
    escape); otherwise known but with no place to rewrite."""
    a, b = node.start_mark.index, node.end_mark.index
    raw = src.text[a:b]
    if node.style in ("'", '"') and len(raw) >= 2 and raw[0] == raw[-1] == node.style:
        a, b, raw = a + 1, b - 1, raw[1:-1]
    if raw == node.value and node.style in (None, "'", '"'):
        return Traced([Piece(node.value, a, b, origin=src.path)])
    return Traced([Piece(node.value, -1, -1, synthetic=True, origin=src.path)])
