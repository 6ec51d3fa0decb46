"""Which platforms a shell command runs on, from the branches around it.

ML-serving Dockerfiles install different things per CPU architecture:
`if [ "$TARGETARCH" = "arm64" ]; then … else … fi`, `case "$ARCH" in
amd64|x86_64) … ;; esac`, `[ "$(uname -m)" = aarch64 ] && …`. The lexer
tells this tracker about reserved words, finished commands and operators; it
answers, for each command, the platforms it can run on (None: all of them).
A test it cannot read restricts nothing: aligner never guesses a platform away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import FrozenSet, List, Optional

from aligner.read.dockerfile.traced import Traced

AMD64, ARM64 = "linux/amd64", "linux/arm64"
ALL = frozenset({AMD64, ARM64})
Platforms = Optional[FrozenSet[str]]

_NAMES = {"amd64": AMD64, "x86_64": AMD64, "x86-64": AMD64, "x64": AMD64, "linux/amd64": AMD64,
          "arm64": ARM64, "aarch64": ARM64, "arm64v8": ARM64, "linux/arm64": ARM64, "linux/arm64/v8": ARM64}
# variables that hold the CPU architecture (BuildKit's TARGETARCH, Dynamo's ARCH and ARCH_ALT, ...)
_ARCH_VARIABLE = re.compile(r"(TARGET|BUILD|HOST|CPU_|SYSTEM_|SYS_)?(ARCH|PLATFORM|ARCHITECTURE)(_ALT)?", re.I)
_ARCH_COMMAND = re.compile(r"uname\s+-[mp]|dpkg\s+--print-architecture|\barch\b")
_TESTS = frozenset({"[", "[[", "test"})


def platform_of(text: str) -> Optional[str]:
    return _NAMES.get(text.strip("*\"' ").lower())


def is_about_arch(word: Traced) -> bool:
    """Whether a word's value is the machine's architecture: `$TARGETARCH`, `${ARCH}`, `$(uname -m)`."""
    for piece in word.pieces:
        if piece.via and _ARCH_VARIABLE.fullmatch(piece.via):
            return True
        if piece.unknown and _ARCH_COMMAND.search(piece.text):
            return True
    return False


def arch_test(words: List[Traced]) -> Platforms:
    """The platforms for which `[ "$TARGETARCH" = arm64 ]` (and the like) is true; None when unknown."""
    if not words or words[0].text not in _TESTS or not any(is_about_arch(w) for w in words):
        return None
    ops = [w.text for w in words if w.text in ("=", "==", "!=", "=~")]
    # a literal is a word written in the file, not the value of the tested variable
    named = {platform_of(w.text) for w in words[1:] if not is_about_arch(w) and w.text not in ops}
    named.discard(None)
    if len(ops) != 1 or not named:
        return None
    return ALL - named if ops[0] == "!=" else frozenset(named)


@dataclass
class _If:
    conditions: List[Platforms] = field(default_factory=list)
    expecting: bool = True  # the next command is a condition
    branch: Platforms = None


@dataclass
class _Case:
    about_arch: bool
    seen: List[Platforms] = field(default_factory=list)
    branch: Platforms = None


class Branches:
    def __init__(self) -> None:
        self.frames: List[object] = []
        self.in_pattern = False  # between `in` (or `;;`) and `)` of a case arm
        self.listed: Platforms = None  # `[ test ] && cmd`: the rest of this and-list
        self.last_test: Platforms = None
        self.named: set = set()  # every platform a branch names: evidence of what the file is built for
        self.after_test = False  # the last command was a `[ … ]` / `test`
        self.guarded = False  # `[ … ] && cmd`: this and-list runs only when a test holds

    # -- what the lexer reports ---------------------------------------------
    def reserved(self, word: str) -> None:
        top = self.frames[-1] if self.frames else None
        if word == "if":
            self.frames.append(_If())
        elif isinstance(top, _If) and word == "elif":
            top.expecting, top.branch = True, None
        elif isinstance(top, _If) and word == "then":
            top.branch = top.conditions[-1] if top.conditions else None
        elif isinstance(top, _If) and word == "else":
            known = top.conditions and all(c is not None for c in top.conditions)
            top.branch = ALL - frozenset().union(*top.conditions) if known else None
        elif isinstance(top, _If) and word == "fi":
            self.frames.pop()
        elif isinstance(top, _Case) and word == "esac":
            self.frames.pop()
            self.in_pattern = False

    def case(self, subject: Traced) -> None:
        """`case SUBJECT in`: the arms follow."""
        self.frames.append(_Case(is_about_arch(subject)))
        self.in_pattern = True

    def pattern(self, words: List[Traced]) -> None:
        """The patterns of one case arm, ended by `)`."""
        top = self.frames[-1]
        self.in_pattern = False
        if not isinstance(top, _Case) or not top.about_arch:
            return
        texts = [w.text for w in words if w.text not in ("(", "|")]
        if texts == ["*"]:
            known = top.seen and all(s is not None for s in top.seen)
            top.branch = ALL - frozenset().union(*top.seen) if known else None
            return
        found = {platform_of(t) for t in texts}
        top.branch = None if None in found or not found else frozenset(found)
        top.seen.append(top.branch)
        if top.branch:
            self.named.update(top.branch)

    def arm_end(self) -> None:
        """`;;`: the next words are the next arm's patterns."""
        if self.frames and isinstance(self.frames[-1], _Case):
            self.frames[-1].branch = None
            self.in_pattern = True

    def command(self, words: List[Traced]) -> Platforms:
        """A finished simple command: the platforms it runs on."""
        top = self.frames[-1] if self.frames else None
        if isinstance(top, _If) and top.expecting:
            top.expecting = False
            top.conditions.append(arch_test(words))
            self.last_test = None
            if top.conditions[-1]:
                self.named.update(top.conditions[-1])
            return self.current()
        only = self.current()
        self.after_test = bool(words) and words[0].text in _TESTS
        self.last_test = arch_test(words)
        if self.last_test:
            self.named.update(self.last_test)
        return only

    def conditional(self) -> bool:
        """Whether the command now finishing runs only when a test holds (in an `if` body, a `case` arm, after
        `[ … ] &&`), whatever the test is about."""
        return self.guarded or any(isinstance(f, _Case) or (isinstance(f, _If) and not f.expecting)
                                   for f in self.frames)

    def operator(self, op: str) -> None:
        """`&&`, `||`, `;`, a newline ("\\n"), `|`, `&`: how the next command joins this one."""
        if op in ("&&", "||") and self.after_test:
            self.guarded = True
        elif op in (";", "\n", "&"):
            self.guarded = False
        self.after_test = False
        if op == "&&" and self.last_test is not None:
            self.listed = self.last_test if self.listed is None else self.listed & self.last_test
        elif op == "||" and self.last_test is not None:
            self.listed = ALL - self.last_test
        elif op in (";", "\n", "&", "||"):
            self.listed = None
        self.last_test = None

    def current(self) -> Platforms:
        out: Platforms = None
        for frame in self.frames:
            if frame.branch is not None:
                out = frame.branch if out is None else out & frame.branch
        if self.listed is not None:
            out = self.listed if out is None else out & self.listed
        return out
