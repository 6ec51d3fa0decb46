"""Build commands in shell scripts: `docker build`, `docker buildx build`, `podman build`, `buildah bud`.

The script is read by the same shell reader as a RUN line (aligner/read/dockerfile/words.py): quotes,
line continuations, `${VAR:-default}`, and the variables the script sets before the command (`REF=…`,
`export`), each value traced to its bytes. A value only known when the script runs (`$1`, a variable
the environment gives) is unknown, not empty. Nothing in the script is ever executed.
"""

from __future__ import annotations

import posixpath
import re
from typing import List, Optional

from aligner.read.buildargs.model import BuildArg, Invocation
from aligner.read.dockerfile.lexer import Source, decode
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.read.dockerfile.words import WordError, shell_program
from aligner.base.errors import InputError

ENGINES = {"docker", "podman", "nerdctl", "buildah"}
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# options of `docker build` / `buildx build` / `podman build` that take the next word as their value
WITH_VALUE = {
    "-t", "--tag", "--target", "--platform", "--cache-from", "--cache-to", "--label", "--secret", "--ssh",
    "--network", "--progress", "-o", "--output", "--builder", "--iidfile", "--metadata-file", "--add-host",
    "--shm-size", "--ulimit", "--build-context", "--attest", "--annotation", "--provenance", "--sbom",
    "--cgroup-parent", "--isolation", "-m", "--memory", "--memory-swap", "--cpu-shares", "--cpuset-cpus",
    "--allow", "--call", "--layers", "--format", "--jobs", "--os", "--arch", "--variant", "--build-arg-file",
}


def source(path: str, data: bytes) -> Source:
    """The decoded script and where its lines start, for the Dockerfile reader to locate values in it."""
    text = decode(path, data, "a text file")
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return Source(path, data, text, starts)


def read(path: str, data: bytes) -> List[Invocation]:
    """Every build command of the script, with its `--build-arg`s; a script the shell reader cannot follow
    is an error naming its line."""
    src = source(path, data)
    text = Traced([Piece(src.text, 0, len(src.text), origin=path)])
    try:
        commands, _ = shell_program(text, lambda name, at=-1: None)
    except WordError as exc:
        at = exc.offset()
        raise InputError(path, src.line_of(at) if at >= 0 else None, f"cannot read this shell script: {exc}") from None
    out = []
    for words, _ in commands:
        found = build_command(words, src, path)
        if found is not None:
            out.append(found)
    return out


def build_command(words: List[Traced], src: Source, path: str, kind: str = "script") -> Optional[Invocation]:
    """The build a command runs, or None when it runs none."""
    k = 0
    # `sudo`, `DOCKER_BUILDKIT=1`, and a prefix only known when the script runs (Dynamo's `$RUN_PREFIX`, empty
    # unless a dry run sets it to `echo`) come before the engine
    while k < len(words) and (words[k].text in ("sudo", "exec", "time", "command", "env")
                              or _ASSIGNMENT.match(words[k].text) or (words[k].unknown and not words[k].text)):
        k += 1
    if k >= len(words) or posixpath.basename(words[k].text) not in ENGINES:
        return None
    engine, rest = posixpath.basename(words[k].text), [w.text for w in words[k + 1:k + 3]]
    if engine == "buildah" and rest[:1] in (["bud"], ["build"]):
        k += 2
    elif rest[:1] == ["build"]:
        k += 2
    elif rest[:2] in (["buildx", "build"], ["image", "build"], ["builder", "build"]):
        k += 3
    else:
        return None
    line = _line(words[k - 1] if k > 0 else words[0], src)
    inv = Invocation(path, line, kind, None, None)
    positional = []
    i = k
    while i < len(words):
        word, t = words[i], words[i].text
        value = None
        if t in ("--build-arg", "-f", "--file", "--target") and i + 1 < len(words):
            value, i = words[i + 1], i + 1
        elif t.startswith(("--build-arg=", "--file=", "--target=")):
            eq = t.index("=")
            value, t = word.slice(eq + 1, len(t)), t[:eq]
        elif t.startswith("-f") and len(t) > 2 and not t.startswith("--"):
            value, t = word.slice(2, len(t)), "-f"
        elif t in WITH_VALUE:
            i += 1
        elif not t.startswith("-") or t == "-":
            positional.append(word)
        if value is not None:
            if t == "--build-arg":
                arg = _arg(value, src)
                if arg is not None:
                    inv.args.append(arg)
            elif t in ("-f", "--file"):
                inv.dockerfile, inv.partial = _known_tail(value)
            else:
                inv.target = None if value.unknown else value.text
        i += 1
    if positional:
        inv.context = None if positional[-1].unknown else positional[-1].text
    return inv


def _known_tail(word: Traced):
    """(the path, or its part after the last piece only known when the script runs; whether it is partial)."""
    if not word.unknown:
        return word.text, False
    pos, tail = 0, 0
    for p in word.pieces:
        pos += len(p.text)
        if p.unknown:
            tail = pos
    rest = word.text[tail:]
    return (rest, True) if "/" in rest or rest.startswith(("Dockerfile", "Containerfile")) else (None, True)


def _arg(word: Traced, src: Source) -> Optional[BuildArg]:
    """`NAME=VALUE` of a --build-arg; `NAME` alone passes the environment's value, which a script leaves
    unknown."""
    t = word.text
    eq = t.find("=")
    if eq <= 0:
        if not t or word.unknown:
            return None
        unknown = Traced([Piece("", -1, -1, synthetic=True, unknown=True)])
        return BuildArg(t, unknown, _line(word, src), src.path, _column(word, src))
    if word.unknown_in(0, eq):
        return None  # a name only the running script knows (Dynamo's `${FRAMEWORK}_FRAMEWORK=1`)
    return BuildArg(t[:eq], word.slice(eq + 1, len(t)), _line(word, src), src.path, _column(word, src))


def _column(word: Traced, src: Source) -> int:
    head = next((p for p in word.pieces if not p.synthetic and p.start >= 0), None)
    return src.column_of(head.start) if head is not None and head.origin == src.path else 1


def _line(word: Traced, src: Source) -> int:
    head = next((p for p in word.pieces if not p.synthetic and p.start >= 0), None)
    return src.line_of(head.start) if head is not None and head.origin == src.path else 1
