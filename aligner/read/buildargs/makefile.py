"""Build commands in Makefiles: recipe lines that run `docker build --build-arg …`, with make's variables.

A variable set at the top (`X = v`, `X := v`, `X ?= v`, with `export`/`override`) is expanded where a
recipe uses it (`$(X)`, `${X}`), traced to its bytes; `$$` is the shell's `$`; a make function
(`$(shell …)`, `$(call …)`) or a variable the file does not set is known only when make runs. Each
recipe line is then read as a shell command, as a build script is. Nothing is run.
"""

from __future__ import annotations

import re
from typing import Dict, List

from aligner.read.buildargs.model import Invocation
from aligner.read.buildargs.script import build_command, source
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.read.dockerfile.words import WordError, shell_program

NAMES = re.compile(r"(^|/)(GNUmakefile|[Mm]akefile|[^/]+\.mk)$")
_ASSIGN = re.compile(r"^(?:(?:export|override)\s+)*([A-Za-z_][A-Za-z0-9_.-]*)\s*(\?=|:::=|::=|:=|\+=|=)\s*")
_REF = re.compile(r"\$\$|\$\(([^()]*)\)|\$\{([^{}]*)\}|\$([A-Za-z_])")


def is_makefile(path: str) -> bool:
    return bool(NAMES.search(path.replace("\\", "/")))


def read(path: str, data: bytes) -> List[Invocation]:
    src = source(path, data)
    variables: Dict[str, Traced] = {}
    out: List[Invocation] = []
    for line, start in _logical_lines(src.text, path):
        text = "".join(p.text for p in line)
        traced = Traced(line)
        if text.startswith("\t"):  # a recipe line
            body = traced.slice(1, len(text))
            while body.text[:1] in ("@", "-", "+"):
                body = body.slice(1, len(body.text))
            expanded = _expand(body, variables)
            try:
                commands, _ = shell_program(expanded, lambda name, at=-1: None)
            except WordError:
                continue  # a recipe the shell reader cannot follow builds nothing aligner can see
            for words, _ in commands:
                found = build_command(words, src, path, kind="makefile")
                if found is not None:
                    out.append(found)
            continue
        m = _ASSIGN.match(text)
        if m and not text.lstrip().startswith("#"):
            value = traced.slice(m.end(), len(_uncommented(text)))
            value = value.slice(0, len(value.text.rstrip()))
            name, op = m.group(1), m.group(2)
            if op == "?=" and name in variables:
                continue
            if op == "+=" and name in variables:
                value = Traced(variables[name].pieces + (Piece(" ", -1, -1, synthetic=True),) + value.pieces)
            elif op in (":=", "::=", ":::="):  # simply expanded: now
                value = _expand(value, variables)
            variables[name] = value
    return out


def _logical_lines(text: str, path: str):
    """(pieces, start) of each line, a backslash-newline joined to the next (make reads it as one space)."""
    pieces: List[Piece] = []
    start, pos = 0, 0
    for raw in text.split("\n"):
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pieces.append(Piece(raw[:-1], pos, pos + len(raw) - 1, origin=path))
            pieces.append(Piece(" ", -1, -1, synthetic=True))
        else:
            pieces.append(Piece(raw, pos, pos + len(raw), origin=path))
            yield pieces, start
            pieces, start = [], pos + len(raw) + 1
        pos += len(raw) + 1
    if pieces:
        yield pieces, start


def _uncommented(text: str) -> str:
    m = re.search(r"(?<!\\)#", text)
    return text[:m.start()] if m else text


def _expand(t: Traced, variables: Dict[str, Traced], depth: int = 0) -> Traced:
    """make's expansion of `$(X)`, `${X}` and `$$`, every piece keeping its place."""
    out, pos = [], 0
    for m in _REF.finditer(t.text):
        out.append(t.slice(pos, m.start()))
        name = m.group(1) or m.group(2) or m.group(3)
        if m.group(0) == "$$":
            out.append(t.slice(m.start() + 1, m.end()))  # the shell's `$`
        elif name in variables and depth < 16:
            out.append(_expand(variables[name], variables, depth + 1))
        else:  # a function (`$(shell …)`) or a variable make is given: known only when it runs
            out.append(Traced([Piece("", -1, -1, name, synthetic=True, unknown=True)]))
        pos = m.end()
    out.append(t.slice(pos, len(t.text)))
    return Traced(p for part in out for p in part.pieces)
