"""Pins that pin nothing: unpinned values (AL001), ARGs a stage cannot see (AL011), values set only at build time (AL013)."""

from __future__ import annotations

from typing import Iterator

from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, distinct, rule


@rule("AL001")
def unpinned(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        # `pip install vllm` and a later `pip install vllm==0.10.2`: the image ends up pinned
        pinned_later = {(p.component, p.path): p.line for p in img.pins() if p.kind == "pip" and p.form == "version"}
        for pin in distinct(img.pins()):  # one finding per value, not per use of it
            if pin.form not in ("empty", "moving"):
                continue
            if pin.kind == "pip" and pinned_later.get((pin.component, pin.path), 0) > pin.line:
                continue
            if pin.kind == "from":
                what = "FROM with no tag" if pin.form == "empty" else f"FROM :{pin.value} (a moving tag)"
            elif pin.kind == "git" and pin.form == "empty" and not pin.via:
                what = f"`git clone` of {pin.name} with no --branch and no checkout builds its default branch's head"
            elif pin.kind == "pip" and pin.form == "empty" and not pin.via:
                what = f"pip spec `{pin.name}` with no version"
            elif pin.form == "empty" and pin.kind in ("arg", "env") and ctx.cat.is_requirement_variable(pin.name):
                what = f"{pin.name} installs {pin.component} with no version"
            elif pin.form == "empty":
                what = f"{pin.via or pin.name} is empty"
            else:
                what = f"{pin.via or pin.name} is {pin.value!r}, a branch or moving ref"
            yield ctx.find("AL001", pin.path, pin.line, pin.column, f"{pin.component} is not pinned: {what}")


@rule("AL011")
def arg_not_in_stage(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        for df in img.files:
            seen = set()
            for use in df.hidden_uses:
                if (use.name, use.stage) in seen:
                    continue  # one `ARG NAME` in the stage fixes every use: one finding, at the first
                seen.add((use.name, use.stage))
                yield ctx.find("AL011", df.path, use.line, 1,
                               f"{use.name} is declared before FROM (line {use.declared_line}) but not in stage "
                               f"{use.stage!r}: here it is empty; add `ARG {use.name}` to the stage")


@rule("AL013")
def set_at_build_time(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        for pin in distinct([p for p in img.pins() if p.form in ("unset", "dynamic")]):
            made = (f"{pin.via} has no value in the file (a build arg)" if pin.form == "unset"
                    else f"{pin.value[:60]} is computed while the image builds")
            yield ctx.find("AL013", pin.path, pin.line, pin.column,
                           f"{pin.component} is set at build time: {made}; aligner checks only what the file pins")
