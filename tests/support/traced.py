"""What the readers' traced values point at, read back from the file's own text."""


def held(data: bytes, arg) -> str:
    """The text of the file that holds a build argument's value (offsets are characters of the decoded file)."""
    where = arg.value.locate(0, len(arg.value.text))
    assert where is not None, arg
    (a, b), _ = where
    return data.decode("utf-8")[a:b]
