"""An image's Python as a variable of the resolver: the CPython minors it can move to.

Python moves only when the image names its version in an ARG or ENV and installs Python by a route that
has every minor (the deadsnakes PPA, uv, conda, pyenv). The distribution's python3, an NGC container's and
a `python:` image tag's stay the image's own: aligner cannot tell which other values would build.
"""

from __future__ import annotations

from typing import Tuple

from aligner.know import facts
from aligner.relate.images import Image


def releases(img: Image) -> Tuple[str, ...]:
    """The CPython minors (rules/python.toml) the image's Python can move to; () when it cannot move."""
    own = img.python()
    if own is None or own.pin is None or own.pin.kind not in ("arg", "env"):
        return ()
    if not any(df.any_python for df in img.files):
        return ()
    return tuple(row["minor"] for row in facts.table("python.cpython"))
