"""Quotes, escapes and `$VAR` expansion over traced text.

Two users: Docker's own word processing (ARG, ENV, FROM), where quotes are
removed and variables expanded without word splitting; and the shell of RUN
lines, which also splits unquoted expansions, knows `&&`, `;`, `|`,
redirections and comments. Values are only ever read, never executed:
command substitutions are kept as opaque text.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Callable, Dict, List, Optional, Tuple

from aligner.read.dockerfile.branches import Branches, Platforms
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.base.errors import AlignerError

Lookup = Callable[[str, int], Optional[Traced]]  # (name, source offset of the use or -1) -> value
MAX_DEPTH = 16
MAX_EXPANSION = 1 << 20

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=")
_BRACE_OP = re.compile(r":-|:\+|:=|:\?|##|%%|//|[-+=?#%/:]")
_OPERATOR = re.compile(r";;&|;;|;&|&&|\|\||[;&|()]")
_REDIRECT = re.compile(r"&>>|&>|>>|>&|>\||<<<|<<-|<<|<&|<>|[<>]")


class WordError(AlignerError):
    """Bad shell or Docker word syntax at a text position."""

    def __init__(self, pos: int, message: str, text: Optional[Traced] = None):
        super().__init__(message)
        self.pos = pos
        self.text = text

    def offset(self) -> int:
        """Source offset of the error, or -1 when unknown."""
        return self.text.point(self.pos).start if self.text is not None else -1


def split_raw(text: str, escape: str = "\\") -> List[Tuple[int, int]]:
    """Index ranges of the whitespace-separated words of text, quotes respected."""
    out, i, n = [], 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        start, quote = i, None
        while i < n and (quote or text[i] not in " \t"):
            c = text[i]
            if quote:
                if c == quote:
                    quote = None
                elif c == escape and quote == '"':
                    i += 1
            elif c in "'\"":
                quote = c
            elif c == escape:
                i += 1
            i += 1
        if quote:
            raise WordError(start, f"unterminated {quote} quote")
        out.append((start, min(i, n)))
    return out


def expand_word(t: Traced, lookup: Lookup, escape: str = "\\") -> Traced:
    """Docker's processing of one word: quotes removed, variables expanded."""
    lex = _Lexer(t, lookup, escape, shell=False)
    lex.run()
    return lex.commands[0][0] if lex.commands[0] else Traced([t.point(0)])


class Command(list):
    """The words of one simple command, and whether it runs only when a shell test holds."""

    def __init__(self, words, conditional: bool = False):
        super().__init__(words)
        self.conditional = conditional


def shell_program(t: Traced, lookup: Lookup):
    """([(words, platforms), ...], platforms named): each simple command with the platforms it runs on
    (None: all), and every platform the script's branches name."""
    lex = _Lexer(t, lookup, "\\", shell=True)
    lex.run()
    return list(zip(lex.commands, lex.only)), lex.branches.named


# words that open or close shell structure: the command that follows them is a command like any other
RESERVED = frozenset("if then else elif fi do done while until for case esac in ! { } time".split())
_DECLARE = frozenset({"export", "local", "declare", "readonly", "typeset"})


class _Lexer:
    def __init__(self, t: Traced, lookup: Lookup, escape: str, shell: bool, depth: int = 0):
        if depth > MAX_DEPTH:
            raise WordError(0, f"variable expansion nested deeper than {MAX_DEPTH}", t)
        self.t, self.s = t, t.text
        self.outer, self.escape, self.shell, self.depth = lookup, escape, shell, depth
        self.commands: List[List[Traced]] = [[]]
        self.word: Optional[List[Traced]] = None
        self.skip_next = False  # the word after a redirection is its target
        self.locals: Dict[str, Traced] = {}  # variables the script itself sets (`V=1 && ...`, `export V=1`)
        self.branches = Branches()
        self.only: List[Platforms] = []  # per finished command: the platforms it runs on

    def lookup(self, name: str, at: int = -1) -> Optional[Traced]:
        if name in self.locals:
            return self.locals[name]
        return self.outer(name, at)

    def _at(self, i: int) -> int:
        where = self.t.locate(i, i + 1)
        return where[0][0] if where else -1

    # -- word building -------------------------------------------------
    def add(self, part: Traced) -> None:
        if self.word is None:
            self.word = []
        self.word.append(part)

    def end_word(self) -> None:
        if self.word is not None:
            word = Traced(p for part in self.word for p in part.pieces)
            if self.skip_next:
                self.skip_next = False
            elif self.shell and not self.commands[-1] and word.text in RESERVED and len(self.word) == 1:
                if word.text in ("for", "case"):
                    self.commands[-1].append(word)  # their next words name a variable or a subject
                else:
                    self.branches.reserved(word.text)
            elif self.shell and word.text == "in" and len(self.commands[-1]) == 2 \
                    and self.commands[-1][0].text == "case":
                self.branches.case(self.commands[-1][1])
                self.commands[-1] = []
            else:
                self.commands[-1].append(word)
        self.word = None

    def end_command(self) -> None:
        self.end_word()
        self.skip_next = False
        if self.commands[-1]:
            if self.shell:
                self.commands[-1] = Command(self.commands[-1], self.branches.conditional())
                self.only.append(self.branches.command(self.commands[-1]))
                self.assign(self.commands[-1])
            self.commands.append([])

    def assign(self, words: List[Traced]) -> None:
        """Remember what a command sets for the commands after it: `V=1`, `export V=1`, `for V in ...`."""
        texts = [w.text for w in words]
        if texts[0] == "for" and len(texts) > 1 and _NAME.fullmatch(texts[1]):
            self.locals[texts[1]] = _loop_value("$" + texts[1])  # one value per turn: not known here
            return
        if texts[0] in _DECLARE:  # `export V=1`, `declare -x V=1`
            k = 1
            while k < len(texts) and texts[k].startswith("-"):
                k += 1
        elif all(_ASSIGNMENT.match(t) for t in texts):
            k = 0
        else:
            return  # `V=1 cmd` sets V for cmd alone
        for word, text in zip(words[k:], texts[k:]):
            m = _ASSIGNMENT.match(text)
            if not m:
                continue
            value, before = word.slice(m.end(), len(text)), self.locals.get(m.group(1))
            # inside an if or case, which branch runs is not known here: a value the script states
            # before stands (`UCX_REPO=…; if [ -n "$MIRROR" ]; then UCX_REPO=<mirror>; fi`), unless it is
            # one the file cannot know (`pkgs="$PINNED"` in one branch, `pkgs="torch …"` in the other)
            if self.branches.frames and before is not None and (value.unknown or not before.unknown):
                continue
            if text[m.end() - 2:m.end()] == "+=" and before is not None:  # `ARGS+=" --build-arg X=1"` appends
                value = Traced(before.pieces + value.pieces)
            self.locals[m.group(1)] = value

    def add_split(self, value: Traced) -> None:
        """An unquoted expansion in the shell: split on blanks."""
        if not self.shell:
            self.add(value)
            return
        text, i = value.text, 0
        for m in _blanks(value):
            if m.start() > i or (self.word is not None and i == 0):
                self.add(value.slice(i, m.start()))
            self.end_word()
            i = m.end()
        if i < len(text):
            self.add(value.slice(i, len(text)))
        elif not text and self.word is not None:
            self.add(value)  # keeps the empty value's position in the word

    # -- scanning --------------------------------------------------------
    def run(self) -> None:
        s, n, i = self.s, len(self.s), 0
        while i < n:
            c = s[i]
            if c in " \t\r" and (self.shell or self.word is None):
                self.end_word()
                i += 1
            elif c == "\n" and self.shell:
                self.end_command()
                self.branches.operator("\n")
                i += 1
            elif c == "#" and self.shell and self.word is None:
                j = s.find("\n", i)
                i = n if j < 0 else j
            elif c == self.escape:
                if s.startswith("\n", i + 1):
                    i += 2
                elif i + 1 < n:
                    self.add(self.t.slice(i + 1, i + 2))
                    i += 2
                else:
                    self.add(self.t.slice(i, i + 1))
                    i += 1
            elif c == "'":
                j = s.find("'", i + 1)
                if j < 0:
                    raise WordError(i, "unterminated ' quote", self.t)
                self.add(self.t.slice(i + 1, j))
                i = j + 1
            elif c == '"':
                i = self.double_quoted(i)
            elif c == "$":
                value, i = self.dollar(i)
                if value.unknown and not any(p.text.strip() and not p.unknown for p in value.pieces):
                    self.add(value)  # what it becomes is not known, so neither are its words
                else:
                    self.add_split(value)  # split where its known text has blanks, never inside an unknown part
            elif self.shell and c == "`":
                j = s.find("`", i + 1)
                if j < 0:
                    raise WordError(i, "unterminated ` command substitution", self.t)
                self.add(self.opaque(i, j + 1))
                i = j + 1
            elif self.shell and (c in "<>" or s.startswith("&>", i)):
                m = _REDIRECT.match(s, i)
                if self.word is not None and all(p.text.isdigit() for p in self.word):
                    self.word = None  # a file descriptor number such as 2>
                self.end_word()
                self.skip_next = True
                i = m.end()
            elif self.shell and c in ";&|()":
                op = _OPERATOR.match(s, i).group(0)
                if self.branches.in_pattern and op in "|()":
                    self.end_word()  # `amd64|x86_64)`: the patterns of a case arm
                    if op == ")":
                        self.branches.pattern(self.commands[-1])
                        self.commands[-1] = []
                else:
                    self.end_command()
                    if op in (";;", ";&", ";;&"):
                        self.branches.arm_end()
                    else:
                        self.branches.operator(op)
                i += len(op)
            else:
                j = i + 1
                stops = " \t\r\n'\"$`<>;&|()#" if self.shell else " \t\r'\"$"
                while j < n and s[j] not in stops and s[j] != self.escape:
                    j += 1
                self.add(self.t.slice(i, j))
                i = j
        if self.shell:
            self.end_command()
        else:
            self.end_word()

    def double_quoted(self, i: int) -> int:
        s, n = self.s, len(self.s)
        self.add(self.t.slice(i + 1, i + 1))
        j = i + 1
        while j < n and s[j] != '"':
            c = s[j]
            if c == self.escape and j + 1 < n and (not self.shell or s[j + 1] in '$`"\\\n'):
                if s[j + 1] != "\n":
                    self.add(self.t.slice(j + 1, j + 2))
                j += 2
            elif c == "$":
                value, j = self.dollar(j)
                self.add(value)
            elif c == "`" and self.shell:
                k = s.find("`", j + 1)
                if k < 0:
                    raise WordError(j, "unterminated ` command substitution", self.t)
                self.add(self.opaque(j, k + 1))
                j = k + 1
            else:
                k = j + 1
                while k < n and s[k] not in '"$`' and s[k] != self.escape:
                    k += 1
                self.add(self.t.slice(j, k))
                j = k
        if j >= n:
            raise WordError(i, 'unterminated " quote', self.t)
        return j + 1

    def dollar(self, i: int) -> Tuple[Traced, int]:
        s, n = self.s, len(self.s)
        nxt = s[i + 1] if i + 1 < n else ""
        if nxt == "{":
            return self.braced(i)
        if nxt == "(" and self.shell:
            j = _matching(s, i + 1, "(", ")")
            if j < 0:
                raise WordError(i, "unterminated $( command substitution", self.t)
            return self.opaque(i, j + 1), j + 1
        m = _NAME.match(s, i + 1)
        if m:
            return self.substitute(m.group(0), i, m.end()), m.end()
        if self.shell and nxt and nxt in "@*#?$!-0123456789":
            return self.opaque(i, i + 2), i + 2
        return self.t.slice(i, i + 1), i + 1

    def braced(self, i: int) -> Tuple[Traced, int]:
        s = self.s
        end = _matching(s, i + 1, "{", "}")
        if end < 0:
            raise WordError(i, "unterminated ${ expansion", self.t)
        m = _NAME.match(s, i + 2)
        if not m:
            return self.opaque(i, end + 1), end + 1  # ${#x}, ${1}, ...: left as text
        name, k = m.group(0), m.end()
        if k == end:
            return self.substitute(name, i, end + 1), end + 1
        op = _BRACE_OP.match(s, k)
        if not op or op.group(0) in ("/", "//", ":"):
            return self.opaque(i, end + 1), end + 1  # substring and replace forms: opaque
        op_text = op.group(0)
        word = _Lexer(self.t.slice(op.end(), end), self.lookup, self.escape, False, self.depth + 1)
        word.run()
        arg = word.commands[0][0] if word.commands[0] else Traced([self.t.point(op.end())])
        value = self.lookup(name, self._at(i))
        empty = value is None or not value.text
        if op_text in (":-", ":=", "-", "="):
            use_default = empty if op_text[0] == ":" else value is None
            out = arg if use_default else value
        elif op_text in (":+", "+"):
            use_alt = (not empty) if op_text[0] == ":" else value is not None
            out = arg if use_alt else self._unset(name, i, end + 1)
        elif op_text in (":?", "?"):
            out = value if value is not None else self._unset(name, i, end + 1)
        else:
            out = _strip(value, arg.text, op_text) if value is not None else self._unset(name, i, end + 1)
        return self._checked(out.with_via(name)), end + 1

    def substitute(self, name: str, i: int, j: int) -> Traced:
        value = self.lookup(name, self._at(i))
        if value is None:
            return self._unset(name, i, j)
        return self._checked(value.with_via(name))

    def opaque(self, i: int, j: int) -> Traced:
        """Text the shell evaluates while the image builds (`$(...)`, backticks, `${V/a/b}`): kept as
        written and marked unknown, so that no one takes it for a value."""
        return Traced(replace(p, unknown=True) for p in self.t.slice(i, j).pieces)

    def _unset(self, name: str, i: int, j: int) -> Traced:
        """A variable with no value in the file: unknown (a build arg, the base image's ENV), not empty.
        The expression itself is where a value would go."""
        where = self.t.locate(i, j)
        a, b = where[0] if where else (-1, -1)
        return Traced([Piece("", a, b, name, synthetic=where is None, unknown=True)])

    @staticmethod
    def _checked(value: Traced) -> Traced:
        if len(value) > MAX_EXPANSION:
            raise WordError(0, f"variable expansion longer than {MAX_EXPANSION} characters")
        return value


def _blanks(value: Traced):
    """The runs of blanks that split an unquoted expansion: in its known text only (an unknown part, such
    as `$(git rev-parse HEAD)`, is one word whatever it holds)."""
    pos = 0
    for p in value.pieces:
        if not p.unknown:
            for m in re.finditer(r"[ \t\n]+", p.text):
                yield _Span(pos + m.start(), pos + m.end())
        pos += len(p.text)


class _Span:
    __slots__ = ("a", "b")

    def __init__(self, a: int, b: int):
        self.a, self.b = a, b

    def start(self) -> int:
        return self.a

    def end(self) -> int:
        return self.b


def _loop_value(text: str) -> Traced:
    """A value the shell computes while it runs: aligner keeps the expression, never a guess."""
    return Traced([Piece(text, -1, -1, synthetic=True, unknown=True)])


def _strip(value: Traced, pattern: str, op: str) -> Traced:
    """`${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}` on a traced value."""
    text, n = value.text, len(value.text)
    if op in ("#", "##"):
        sizes = range(n + 1) if op == "#" else range(n, -1, -1)
        cut = next((k for k in sizes if fnmatchcase(text[:k], pattern)), 0)
        out, a, b = value.slice(cut, n), cut, n
    else:
        sizes = range(n + 1) if op == "%" else range(n, -1, -1)
        cut = next((k for k in sizes if fnmatchcase(text[n - k:], pattern)), 0)
        out, a, b = value.slice(0, n - cut), 0, n - cut
    whole = value.locate(0, n) if n else None
    if whole and (a, b) != (0, n) and b > a and len(out.pieces) == 1:
        p = out.pieces[0]
        out = Traced([Piece(p.text, p.start, p.end, p.via, whole[0], p.synthetic, origin=p.origin)])
    return out


def _matching(s: str, i: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at s[i], or -1."""
    depth, quote, k = 0, None, i
    while k < len(s):
        c = s[k]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"" and open_ == "(":
            quote = c
        elif c == "\\":
            k += 1
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return -1
