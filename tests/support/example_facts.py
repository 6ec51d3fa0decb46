"""What the example tests read: release metadata from rules/snapshot, an example's ARGs, and its
findings through this checkout's CLI. Expected values come from these files, never from aligner's output."""

import json
import shutil
import sys
from pathlib import Path

from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = ROOT / "rules" / "snapshot"
__all__ = ["tomllib"]  # re-exported for the example tests, with Python 3.10 in mind


def releases(project: str) -> list:
    return json.loads((SNAPSHOT / f"{project}.json").read_text())["releases"]


def release(project: str, version: str) -> dict:
    (rel,) = [r for r in releases(project) if r["version"] == version]
    return rel


def rules(name: str) -> dict:
    """rules/NAME.toml, read here."""
    return tomllib.loads((ROOT / "rules" / f"{name}.toml").read_text())


def gpu_compute(name: str) -> tuple:
    (row,) = [r for r in rules("gpus")["gpu"] if r["name"] == name]
    return tuple(int(x) for x in row["compute"].split("."))


def arch_row(cuda: str) -> dict:
    """The rules/cuda.toml [[arch]] row of a CUDA release's minor."""
    minor = ".".join(cuda.split(".")[:2])
    (row,) = [r for r in rules("cuda")["arch"] if r["cuda"] == minor]
    return row


def upstream_pin(example: Path, extra: str, name: str) -> Requirement:
    """The requirement on `name` of an extra of the example's upstream pyproject."""
    doc = tomllib.loads((example / "upstream" / "pyproject.toml").read_text())
    (req,) = [Requirement(r) for r in doc["project"]["optional-dependencies"][extra] if Requirement(r).name == name]
    return req


def line_of(path: Path, text: str) -> int:
    """The one line of the file that starts with `text`."""
    (n,) = [i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(text)]
    return n


def arg(path: Path, name: str) -> str:
    """The default of `ARG NAME=...` as written, quotes removed."""
    line = path.read_text().splitlines()[line_of(path, f"ARG {name}=") - 1]
    return line.split("=", 1)[1].strip().strip('"')


def set_arg(path: Path, name: str, new: str) -> None:
    path.write_text(path.read_text().replace(f"ARG {name}={arg(path, name)}\n", f"ARG {name}={new}\n"))


def copy_example(example: Path, tmp_path: Path) -> Path:
    dst = tmp_path / example.name
    shutil.copytree(example, dst)
    return dst


def check(run_aligner, repo, *paths):
    """(exit status, findings) of `aligner check --format json` in the example."""
    result = run_aligner("check", "--no-cache", "--format", "json", *paths, cwd=repo)
    doc = json.loads(result.stdout)
    assert not doc["errors"], doc["errors"]
    return result.returncode, doc["findings"]


def by_place(findings) -> dict:
    """Findings keyed by (code, path, line), asserting no place has two of one code."""
    out = {}
    for f in findings:
        assert (f["code"], f["path"], f["line"]) not in out, f
        out[(f["code"], f["path"], f["line"])] = f
    return out


def safe_fix_changes_nothing(run_aligner, repo, dockerfiles, before) -> None:
    """`fix --apply` (safe fixes only) where every change is unsafe: exit 1 saying what it held back (something
    is left, as ruff's exit status says), the Dockerfiles byte for byte as they were, and no finding that
    `before` (check's findings) did not have."""
    old = {p: p.read_bytes() for p in dockerfiles}
    result = run_aligner("fix", "--apply", cwd=repo)
    assert result.returncode == 1 and "held back" in result.stderr, result.stderr  # 1: unsafe changes are left
    assert "nothing to change" not in result.stderr
    assert {p: p.read_bytes() for p in old} == old
    _, after = check(run_aligner, repo)
    place = lambda findings: {(f["code"], f["path"], f["line"]) for f in findings}
    assert place(after) <= place(before)

