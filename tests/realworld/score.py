"""Score aligner on the real-world cases: refused files, pin recall, finding precision and recall.

Each case is copied to a temporary folder (so no config above it is found) and
read there with `aligner pins` and `aligner check`, offline, as a user would.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from aligner.base._toml import loads
from aligner.read.discover import is_dockerfile

CASES = Path(__file__).parent / "cases"
SCORED = ("error", "warning")  # notices say what aligner cannot know; they are not findings


@dataclass
class Result:
    name: str
    refused: List[str] = field(default_factory=list)  # "file:line: message"
    pins_expected: int = 0
    pins_missed: List[tuple] = field(default_factory=list)
    findings_expected: int = 0
    findings_reported: int = 0
    findings_missed: List[tuple] = field(default_factory=list)
    findings_false: List[tuple] = field(default_factory=list)


def cases() -> List[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "expected.toml").is_file()) if CASES.is_dir() else []


def _run(argv: List[str]) -> dict:
    from aligner.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = out.getvalue()
    if not text.strip():
        raise RuntimeError(f"aligner {' '.join(argv)} printed nothing (exit {code}): {err.getvalue().strip()}")
    return json.loads(text)


def _dockerfiles(case: Path) -> List[str]:
    return sorted(p.name for p in case.iterdir() if is_dockerfile(p.name))


def score_case(case: Path) -> Result:
    spec = loads((case / "expected.toml").read_text("utf-8"))
    files = _dockerfiles(case)
    default_file = files[0] if len(files) == 1 else None
    res = Result(case.name)
    with tempfile.TemporaryDirectory() as tmp, _cwd_env(tmp):
        root = Path(tmp) / case.name
        shutil.copytree(case, root, ignore=shutil.ignore_patterns("expected.toml"))
        os.chdir(root)
        if (root / "aligner.toml").exists():
            _lock(res)  # a configured repository is checked as its users run it: locked first
        pins = _run(["pins", "--format", "json", "."])
        checked = _run(["check", "--format", "json", "."])
    if spec.get("builds", True):
        res.refused += [f"{e['path']}:{e.get('line')}: {e['message']}" for e in checked.get("errors", [])]
    got_pins = Counter(_pin_key(p, None) for p in pins.get("pins", []))
    want_pins = Counter(_pin_key(p, default_file) for p in spec.get("pin", []))
    res.pins_expected = sum(want_pins.values())
    res.pins_missed = sorted((want_pins - got_pins).elements(), key=str)
    reported = [f for f in checked.get("findings", []) if f["severity"] in SCORED]
    got_f = Counter(_finding_key(f, None) for f in reported)
    want_f = Counter(_finding_key(f, default_file) for f in spec.get("finding", []))
    res.findings_expected = sum(want_f.values())
    res.findings_reported = sum(got_f.values())
    res.findings_missed = sorted((want_f - got_f).elements(), key=str)
    res.findings_false = sorted((got_f - want_f).elements(), key=str)
    messages = {_finding_key(f, None): f["message"] for f in reported}
    res.findings_false = [k + (messages.get(k, ""),) for k in res.findings_false]
    return res


def _lock(res: "Result") -> None:
    from aligner.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lock"])
    if code != 0:
        res.refused.append(f"aligner lock: exit {code}: {err.getvalue().strip()[:500]}")


@contextlib.contextmanager
def _cwd_env(tmp: str):
    from aligner.know import components, fetch

    old_cwd, old_env, old_offline = os.getcwd(), dict(os.environ), fetch.OFFLINE
    os.environ["ALIGNER_CACHE_DIR"] = os.path.join(tmp, ".cache")
    os.environ["ALIGNER_OFFLINE"] = "1"
    try:
        yield
    finally:
        # aligner's main sets process-wide state (offline mode, a config's catalog): leave none behind
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
        fetch.OFFLINE = old_offline
        components.use(None)


def _file(path: Optional[str], default: Optional[str]) -> str:
    if path is None:
        if default is None:
            raise ValueError("a case with several Dockerfiles must name the `file` of each pin and finding")
        return default
    return os.path.normpath(path)


def _pin_key(p: dict, default: Optional[str]) -> tuple:
    # use_line is not matched: the pin at a value's bytes and one per use share (line, value), and the
    # multiset still counts each of them
    return (_file(p.get("file") or p.get("path"), default), p["component"], p["line"], p["value"])


def _finding_key(f: dict, default: Optional[str]) -> tuple:
    return (_file(f.get("file") or f.get("path"), default), f["code"], f["line"])


@dataclass
class Totals:
    cases: int
    files: int
    refused: int
    pin_recall: float
    finding_precision: float
    finding_recall: float


def totals(results: List[Result]) -> Totals:
    pins = sum(r.pins_expected for r in results)
    missed = sum(len(r.pins_missed) for r in results)
    reported = sum(r.findings_reported for r in results)
    expected = sum(r.findings_expected for r in results)
    false = sum(len(r.findings_false) for r in results)
    found = sum(r.findings_expected - len(r.findings_missed) for r in results)
    files = sum(len(_dockerfiles(CASES / r.name)) for r in results)
    return Totals(len(results), files, sum(1 for r in results if r.refused),
                  (pins - missed) / pins if pins else 1.0,
                  (reported - false) / reported if reported else 1.0,
                  found / expected if expected else 1.0)


def report(results: List[Result], verbose: bool, out=sys.stdout) -> Totals:
    for r in results:
        mark = "REFUSED " if r.refused else ""
        print(f"{r.name:48} {mark}pins {r.pins_expected - len(r.pins_missed)}/{r.pins_expected}  "
              f"findings {r.findings_expected - len(r.findings_missed)}/{r.findings_expected} expected, "
              f"{len(r.findings_false)} false", file=out)
        if verbose:
            for line in r.refused:
                print(f"    refused: {line}", file=out)
            for p in r.pins_missed:
                print(f"    missed pin: {p}", file=out)
            for f in r.findings_missed:
                print(f"    missed finding: {f}", file=out)
            for f in r.findings_false:
                print(f"    false finding: {f}", file=out)
    t = totals(results)
    print(f"\n{t.cases} cases, {t.files} Dockerfiles: {t.refused} refused; pin recall {t.pin_recall:.1%}; "
          f"finding precision {t.finding_precision:.1%}, recall {t.finding_recall:.1%}", file=out)
    return t


def source_repository(case: Path) -> str:
    """OWNER/REPO of the public file a case is modelled on (its `source`)."""
    source = str(loads((case / "expected.toml").read_text("utf-8")).get("source", ""))
    return source.split()[0].lower() if source.strip() else ""


def lint(case: Path) -> List[str]:
    """What is wrong with a case's expectations, read without aligner: every value must stand on its line."""
    problems = []
    try:
        spec = loads((case / "expected.toml").read_text("utf-8"))
    except Exception as exc:  # a broken expected.toml is the case's fault, say so and go on
        return [f"{case.name}/expected.toml: {exc}"]
    files = _dockerfiles(case)
    if not files:
        return [f"{case.name}: no Dockerfile"]
    if not str(spec.get("source", "")).strip():
        problems.append(f"{case.name}: no `source` naming the file it is modelled on")
    default = files[0] if len(files) == 1 else None
    for kind in ("pin", "finding"):
        for entry in spec.get(kind, []):
            name = entry.get("file") or default
            if name not in files:
                problems.append(f"{case.name}: {kind} {entry} names no Dockerfile of the case")
                continue
            lines = (case / name).read_text("utf-8").split("\n")
            line = entry.get("line", 0)
            if not 1 <= line <= len(lines):
                problems.append(f"{case.name}: {kind} {entry}: no line {line} in {name}")
            elif kind == "pin" and entry.get("value", "") not in lines[line - 1]:
                problems.append(f"{case.name}/{name}:{line}: pin value {entry.get('value')!r} is not on that line")
            if kind == "finding" and not entry.get("why"):
                problems.append(f"{case.name}: finding {entry.get('code')} at line {line} says no `why`")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m tests.realworld.score", description=__doc__)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss and false finding")
    ap.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    ap.add_argument("--lint", action="store_true", help="only check the expectations themselves (no aligner run)")
    args = ap.parse_args(argv)
    chosen = [c for c in cases() if not args.case or c.name in args.case]
    if args.lint:
        problems = [p for c in chosen for p in lint(c)]
        print("\n".join(problems) or f"{len(chosen)} cases: expectations are consistent")
        return 1 if problems else 0
    report([score_case(c) for c in chosen], args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
