"""An image's Python as a variable of the resolver: the Pythons it can move to.

Python moves when the image names its version in an ARG or ENV and installs Python by a route that has
every minor (the deadsnakes PPA, uv, conda, pyenv), or when it comes with an NGC container, which moves by
whole releases. The distribution's python3 and a `python:` image tag's stay the image's own: aligner
cannot tell which other values would build.
"""

from __future__ import annotations

from typing import Tuple

from aligner.know import facts, ngc
from aligner.relate.images import Image


def releases(img: Image) -> Tuple[str, ...]:
    """The CPython minors (rules/python.toml) the image's Python can move to; () when it cannot move."""
    own = img.python()
    if own is not None and own.pin is None and own.container is not None:  # an NGC base: its releases' Pythons
        return tuple(ngc.pythons(own.container.component))
    if own is None or own.pin is None or own.pin.kind not in ("arg", "env"):
        return ()
    if not any(df.any_python for df in img.files):
        return ()
    return tuple(row["minor"] for row in facts.table("python.cpython"))
