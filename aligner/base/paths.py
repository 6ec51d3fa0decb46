"""How a path is shown to the user: relative to the working directory when inside it."""

import os


def display(path) -> str:
    """A path (str or Path) as the user sees it."""
    path = os.fspath(path)
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def located(path: str, line: int, root) -> str:
    """`path:line` relative to the repository root, or absolute when outside it."""
    rel = os.path.relpath(path, root)
    return f"{rel if not rel.startswith('..') else path}:{line}"


def read_regular(path, limit: int) -> bytes:
    """A file's bytes; a directory, FIFO or device is refused before it can block, and so is a huge file."""
    import stat

    from aligner.base.errors import InputError

    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(str(path), None, "is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(str(path), None, "is not a regular file (a FIFO, socket or device): not reading it")
        if st.st_size > limit:
            raise InputError(str(path), None, f"file is {st.st_size} bytes, over aligner's limit of {limit}")
        with open(path, "rb") as fh:
            return fh.read(limit + 1)
    except FileNotFoundError:
        raise InputError(str(path), None, "no such file") from None
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
