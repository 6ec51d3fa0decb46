"""Split a Dockerfile into instructions, keeping every character's source offset.

Handles parser directives (`# escape=`), line continuations, comment lines
inside continuations, CRLF, heredocs (`RUN <<EOF`), and reports what is not a
Dockerfile with the file and line.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Dict, List

from aligner.read.dockerfile.traced import Piece, Traced
from aligner.base.errors import InputError

INSTRUCTIONS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER "
    "ONBUILD RUN SHELL STOPSIGNAL USER VOLUME WORKDIR".split()
)
HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
MAX_BYTES = 16 * 1024 * 1024  # no real Dockerfile comes near; keeps memory bounded
# Docker's own parser reads lines with Go's bufio.Scanner and refuses one of 64 KiB or more:
# "dockerfile line greater than max allowed size of 65535" (moby/moby#35429)
MAX_LINE = 65535

_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(\S*)\s*$")
_KEYWORD = re.compile(r"([A-Za-z]+)(?=\s|$)")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")


@dataclass
class Heredoc:
    delimiter: str
    body: Traced  # the body lines, each with its newline
    line: int  # line of the first body line
    quoted: bool
    start: int  # index in the instruction's args where `<<` stands


@dataclass
class Instruction:
    keyword: str
    args: Traced
    line: int
    end_line: int
    heredocs: List[Heredoc] = field(default_factory=list)


@dataclass
class Source:
    """A decoded Dockerfile and the positions needed to report on it."""

    path: str
    data: bytes
    text: str
    line_starts: List[int]
    escape: str = "\\"
    instructions: List[Instruction] = field(default_factory=list)
    comments: Dict[int, str] = field(default_factory=dict)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def column_of(self, offset: int) -> int:
        return offset - self.line_starts[self.line_of(offset) - 1] + 1

    def byte_offset(self, offset: int) -> int:
        if len(self.data) == len(self.text):
            return offset
        return len(self.text[:offset].encode("utf-8"))

    def error(self, line: int, message: str) -> InputError:
        return InputError(self.path, line, message)


def decode(path: str, data: bytes, what: str = "a Dockerfile") -> str:
    if len(data) > MAX_BYTES:
        raise InputError(path, None, f"file is {len(data)} bytes, over aligner's limit of {MAX_BYTES}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(path, data.count(b"\n", 0, nul) + 1, f"binary file (NUL byte): not {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    if len(data) > MAX_LINE:
        for number, line in enumerate(data.split(b"\n"), 1):
            if len(line) > MAX_LINE:
                raise InputError(path, number, f"line of {len(line)} bytes, longer than the {MAX_LINE} "
                                               "that Docker's parser accepts")
    return text


def lex(path: str, data: bytes) -> Source:
    text = decode(path, data)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    if starts[-1] == len(text) and len(starts) > 1:
        starts.pop()  # a final newline opens no line
    src = Source(path, data, text, starts)
    lines = [_content(text, s) for s in starts]
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = " " + lines[0][1:]  # the BOM stands in as blank so offsets stay true

    i = _directives(src, lines)
    while i < len(lines):
        body = lines[i].lstrip(" \t")
        if not body:
            i += 1
        elif body.startswith("#"):
            src.comments[i + 1] = body
            i += 1
        else:
            i = _instruction(src, lines, i)
    return src


def _content(text: str, start: int) -> str:
    end = text.find("\n", start)
    line = text[start:] if end < 0 else text[start:end]
    return line[:-1] if line.endswith("\r") else line


def _directives(src: Source, lines: List[str]) -> int:
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i].strip())
        if not m:
            break
        if m.group(1).lower() == "escape":
            if m.group(2) not in ("\\", "`"):
                raise src.error(i + 1, f"escape directive must be \\ or `, not {m.group(2)!r}")
            src.escape = m.group(2)
        src.comments[i + 1] = lines[i].strip()
        i += 1
    return i


def _instruction(src: Source, lines: List[str], i: int) -> int:
    first = i
    cont = re.compile(re.escape(src.escape) + r"[ \t]*$")
    pieces = []
    while True:
        line = lines[i]
        offset = src.line_starts[i]
        if i == first:
            lead = len(line) - len(line.lstrip(" \t"))
            offset += lead
            line = line[lead:]
        m = cont.search(line)
        part = line[: m.start()] if m else line
        pieces.append(Piece(part, offset, offset + len(part)))
        i += 1
        if not m:
            break
        # comment and blank lines inside a continuation are dropped by Docker
        while i < len(lines) and (not lines[i].strip() or lines[i].lstrip(" \t").startswith("#")):
            i += 1
        if i >= len(lines):
            break
    logical = Traced(pieces)
    m = _KEYWORD.match(logical.text)
    if not m or m.group(1).upper() not in INSTRUCTIONS:
        word = logical.text.split()[0] if logical.text.split() else logical.text
        raise src.error(first + 1, f"unknown instruction {word[:40]!r}: not a Dockerfile instruction")
    keyword = m.group(1).upper()
    rest = logical.text[m.end():]
    args = logical.slice(m.end() + len(rest) - len(rest.lstrip()), len(logical))
    inst = Instruction(keyword, args, first + 1, i)
    if keyword in HEREDOC_INSTRUCTIONS:
        for start, strip_tabs, quoted, delim in _heredoc_markers(args.text):
            body, i = _heredoc_body(src, lines, i, delim, strip_tabs, first + 1)
            inst.heredocs.append(Heredoc(delim, body, inst.end_line + 1, quoted, start))
            inst.end_line = i
    src.instructions.append(inst)
    return i


def _heredoc_markers(text: str):
    """`<<EOF` markers outside quotes, in order."""
    quote = None
    k = 0
    while k < len(text):
        c = text[k]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                k += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            k += 1
        elif text.startswith("<<", k) and not text.startswith("<<<", k):
            m = _HEREDOC.match(text, k)
            if m:
                yield k, m.group(1) == "-", bool(m.group(2)), m.group(3)
                k = m.end()
                continue
        k += 1


def _heredoc_body(src: Source, lines: List[str], i: int, delim: str, strip_tabs: bool, line: int):
    pieces = []
    while i < len(lines):
        content = lines[i]
        offset = src.line_starts[i]
        if strip_tabs:
            lead = len(content) - len(content.lstrip("\t"))
            content, offset = content[lead:], offset + lead
        if content == delim:
            return Traced(pieces), i + 1
        pieces.append(Piece(content + "\n", offset, offset + len(content) + 1, synthetic=False))
        i += 1
    raise src.error(line, f"unterminated heredoc: no line {delim!r} closes <<{delim}")
