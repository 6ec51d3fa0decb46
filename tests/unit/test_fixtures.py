"""Every fixture Dockerfile yields exactly the pins its expected.toml lists by hand."""

from collections import Counter
from pathlib import Path

import pytest

from aligner.base._toml import loads
from aligner.read.discover import is_dockerfile
from aligner.read.dockerfile import read

CASES = Path(__file__).parent.parent / "fixtures" / "dockerfiles"
FIELDS = ("component", "kind", "name", "value", "version", "form", "line", "column", "stage",
          "op", "extras", "via", "use_line", "visible")


def cases():
    return sorted(p for p in CASES.iterdir() if (p / "expected.toml").exists())


def dockerfile_of(case: Path) -> Path:
    files = [p for p in case.iterdir() if is_dockerfile(p.name)]
    assert len(files) == 1, f"{case.name}: expected one Dockerfile, found {files}"
    return files[0]


def expected_row(pin: dict) -> tuple:
    """A hand-written pin with the README's defaults for omitted fields."""
    row = dict(version=None, stage=None, op=None, extras=(), via=None, visible=True)
    row.update(pin)
    row["extras"] = tuple(row["extras"])
    row.setdefault("use_line", row["line"])
    if row["kind"] != "pip":
        row["op"] = None
    elif row["op"] is None:
        row["op"] = ""
    return tuple(row[f] for f in FIELDS)


def byte_offset(data: bytes, line: int, column: int) -> int:
    """Offset of a 1-based (line, character column), worked out from the raw bytes alone."""
    lines = data.split(b"\n")
    start = sum(len(l) + 1 for l in lines[: line - 1])
    return start + len(lines[line - 1].decode("utf-8")[: column - 1].encode("utf-8"))


def test_there_are_enough_cases():
    assert len(cases()) >= 25


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_fixture_pins(case):
    path = dockerfile_of(case)
    data = path.read_bytes()
    expected = loads((case / "expected.toml").read_text("utf-8")).get("pin", [])
    got = read(str(path), data).pins
    want_rows = Counter(expected_row(p) for p in expected)
    got_rows = Counter(tuple(getattr(p, f) for f in FIELDS) for p in got)
    missing, extra = want_rows - got_rows, got_rows - want_rows
    assert not missing and not extra, f"missing: {sorted(missing, key=str)}\nextra: {sorted(extra, key=str)}"
    for pin in got:
        start = byte_offset(data, pin.line, pin.column)
        assert (pin.start, pin.end) == (start, start + len(pin.value.encode("utf-8"))), pin
        assert data[pin.start:pin.end].decode("utf-8") == pin.value
