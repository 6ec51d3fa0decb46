"""How a path is shown to the user: relative to the working directory when inside it."""

import os


def display(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel
