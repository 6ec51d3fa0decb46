"""Strings that remember where each character came from in the file.

A Dockerfile value reaches its use through line continuations, quotes and
variable expansions; a `Traced` string carries, piece by piece, the source
offsets (characters of the decoded file) so that a version found in the
expanded text can be mapped back to the exact bytes to rewrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Tuple

Span = Tuple[int, int]


@dataclass(frozen=True)
class Piece:
    text: str
    start: int  # source offset of the piece (char index into the file text)
    end: int  # source end; differs from start + len(text) only for empty pieces
    via: Optional[str] = None  # outermost variable this text was reached through
    whole: Optional[Span] = None  # a variable's whole value, when this is it minus a prefix/suffix
    synthetic: bool = False  # no source bytes hold this text (e.g. a JSON escape)
    unknown: bool = False  # a variable with no value in the file: set at build time, or not at all
    origin: Optional[str] = None  # another file the text is from (a build script's --build-arg); offsets are its


class Traced:
    """An immutable string made of pieces with known sources."""

    __slots__ = ("pieces", "text", "_starts")

    def __init__(self, pieces: Iterable[Piece] = ()):
        self.pieces: Tuple[Piece, ...] = tuple(pieces)
        self.text = "".join(p.text for p in self.pieces)
        starts, pos = [], 0
        for p in self.pieces:
            starts.append(pos)
            pos += len(p.text)
        self._starts = starts

    def __str__(self) -> str:
        return self.text

    def __len__(self) -> int:
        return len(self.text)

    def __repr__(self) -> str:
        return f"Traced({self.text!r})"

    def point(self, i: int) -> Piece:
        """An empty piece standing for the position before character i."""
        empties = [p for k, p in enumerate(self.pieces) if not p.text and self._starts[k] == i]
        if empties:
            return next((p for p in empties if p.unknown), empties[0])  # an unknown value outranks a mark
        for k, p in enumerate(self.pieces):
            s = self._starts[k]
            if p.text and s < i <= s + len(p.text) and not p.synthetic:
                pos = p.start + (i - s)
                return Piece("", pos, pos, p.via, origin=p.origin)
        for k, p in enumerate(self.pieces):
            if p.text and self._starts[k] == i and not p.synthetic:
                return Piece("", p.start, p.start, p.via, origin=p.origin)
        return Piece("", -1, -1, synthetic=True)

    def slice(self, i: int, j: int) -> "Traced":
        if i >= j:
            return Traced([self.point(i)])
        out = []
        for k, p in enumerate(self.pieces):
            s = self._starts[k]
            e = s + len(p.text)
            if not p.text and p.unknown and i <= s <= j:
                out.append(p)  # a variable with no value stands here: keep knowing it
                continue
            lo, hi = max(i, s), min(j, e)
            if lo >= hi:
                continue
            if lo == s and hi == e:
                out.append(p)
            else:
                a = p.start + (lo - s)
                out.append(Piece(p.text[lo - s:hi - s], a, a + (hi - lo), p.via, None, p.synthetic, p.unknown,
                                 p.origin))
        return Traced(out)

    def with_via(self, name: str) -> "Traced":
        return Traced(Piece(p.text, p.start, p.end, name, p.whole, p.synthetic, p.unknown, p.origin)
                      for p in self.pieces)

    def origin_of(self, i: int, j: int) -> Optional[str]:
        """The other file that text[i:j] comes from (see Piece.origin), or None for the file being read."""
        if i >= j:
            return self.point(i).origin
        for k, p in enumerate(self.pieces):
            s = self._starts[k]
            if p.text and s < j and s + len(p.text) > i:
                return p.origin
        return None

    def unknown_in(self, i: int, j: int) -> bool:
        """Whether an unknown piece lies in text[i:j], an empty one at its ends included."""
        for k, p in enumerate(self.pieces):
            s = self._starts[k]
            inside = (s < j and s + len(p.text) > i) if p.text else i <= s <= j
            if inside and p.unknown:
                return True
        return False

    @property
    def unknown(self) -> bool:
        """Whether a variable with no value in the file stands in this text."""
        return any(p.unknown for p in self.pieces)

    def locate(self, i: int, j: int) -> Optional[Tuple[Span, Optional[str]]]:
        """The source span holding text[i:j] and the variable it came through.

        None when those characters do not lie in one contiguous run of the file.
        """
        if i >= j:
            p = self.point(i)
            return None if p.synthetic else ((p.start, p.end), p.via)
        parts = []
        for k, p in enumerate(self.pieces):
            s = self._starts[k]
            lo, hi = max(i, s), min(j, s + len(p.text))
            if lo < hi:
                if p.synthetic:
                    return None
                parts.append((p, lo - s, hi - s))
        if len({p.origin for p, _, _ in parts}) > 1:
            return None  # part in the Dockerfile, part in a build script: no one span holds it
        if len(parts) == 1:
            p, a, b = parts[0]
            if p.whole is not None and a == 0 and b == len(p.text):
                return p.whole, p.via
        spans = [(p.start + a, p.start + b) for p, a, b in parts]
        for (_, end), (start, _) in zip(spans, spans[1:]):
            if end != start:
                return None
        return (spans[0][0], spans[-1][1]), parts[0][0].via
