"""Change pinned values in file bytes, and nothing else.

`rewrite` is the one primitive every writer goes through: it takes the file's
bytes and new values for some of its pins, checks that each pin still matches
the bytes (a stale pin is an error, not a silent corruption), and replaces only
the value spans. Pins that share a span (an ARG and the pip line that uses it),
or lie one inside the other, must agree on the new bytes.
"""

from __future__ import annotations

from typing import Dict, Iterable, Mapping, Tuple

from aligner.read.dockerfile.model import Pin
from aligner.know.versions import strip_v
from aligner.base.errors import AlignerError


class RewriteError(AlignerError):
    """A value that cannot be written in its pin's style."""


def render(pin: Pin, version: str) -> str:
    """The text to write for `version` in the style of the pin's current value."""
    old = pin.value
    if pin.form == "empty" and not old:
        # a bare requirement (`tensorrt-llm`, in a RUN line or a *_PIP_WHEEL value) needs its `==`;
        # a value the spec already prefixes (`flashinfer-python==${FLASHINF_REF}`) does not
        from aligner.know.components import catalog

        cat = catalog()
        bare = (pin.kind == "pip" and not pin.via) or cat.is_requirement_variable(pin.via or "") or (
            pin.kind in ("arg", "env") and cat.is_requirement_variable(pin.name))
        if bare:
            return f"=={version}"
        if pin.kind == "from":
            return f":{version}"
    if old[:1] in ("v", "V") and strip_v(old) != old and not version.startswith(("v", "V")):
        return old[0] + version
    if pin.kind == "git" and pin.form in ("moving", "empty", "commit"):
        # a branch or commit becomes a release tag, and the stack's repositories tag releases
        # v-prefixed (vllm, sglang, LMCache, AIBrix, UCX, flashinfer): `git checkout 0.12.0` fails
        return "v" + version
    if pin.component == "cuda" and old.isdigit() and "." in version:
        return "".join(version.split(".")[:2])  # compact form in tags: 12.9 -> 129
    return version


def rewrite(data: bytes, changes: Mapping[Pin, str] | Iterable[Tuple[Pin, str]]) -> bytes:
    """New file bytes with each pin's value bytes replaced by the given text."""
    items = changes.items() if isinstance(changes, Mapping) else changes
    edits: Dict[Tuple[int, int], bytes] = {}
    for pin, text in items:
        if pin.start is None or pin.end is None:
            raise RewriteError(f"{pin.path}:{pin.line}: {pin.component} is not held in one place of the file")
        if data[pin.start:pin.end] != pin.value.encode("utf-8"):
            raise RewriteError(f"{pin.path}:{pin.line}: file changed since it was read ({pin.value!r} is not there)")
        new = text.encode("utf-8")
        span = (pin.start, pin.end)
        if edits.get(span, new) != new:
            raise RewriteError(f"{pin.path}:{pin.line}: conflicting new values for {pin.value!r}")
        edits[span] = new
    out, pos, outer = [], 0, None
    for (start, end), new in sorted(edits.items(), key=lambda e: (e[0][0], -e[0][1])):
        if outer and start < outer[1]:
            # a pin inside another (a tag's version inside an ARG's value): they must agree
            o_start, o_end, o_new = outer
            if end > o_end or data[o_start:start] + new + data[end:o_end] != o_new:
                raise RewriteError(f"conflicting new values for overlapping pins at byte {start}")
            continue
        out += [data[pos:start], new]
        pos, outer = end, (start, end, new)
    out.append(data[pos:])
    return b"".join(out)
