"""`aligner fix`: golden repos byte for byte, safety, atomic writes, and properties."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.repos import copy_repo
from aligner.components import catalog
from aligner.dockerfile import read
from aligner.errors import InputError
from aligner.fix import FilePlan, Plan, add_edits, apply, finish
from tests.dockerfile_gen import dockerfiles
from tests.test_lock import expected

FIXTURES = Path(__file__).parent / "fixtures"


copy = copy_repo


@pytest.mark.parametrize("name,flags", [("dynamo", ["--unsafe-fixes"]), ("crlf-vllm", [])])
def test_golden_repos_round_trip(tmp_path, run_aligner, name, flags):
    repo = copy(name, tmp_path)
    golden = FIXTURES / "fix" / name
    shown = run_aligner("fix", *flags, cwd=repo)
    assert shown.returncode == 1 and shown.stdout.startswith("--- a/"), shown.stderr
    for f in (golden / "expected").rglob("*"):  # a preview writes nothing
        if f.is_file():
            assert (repo / f.relative_to(golden / "expected")).read_bytes() == (FIXTURES / "repos" / name / f.relative_to(golden / "expected")).read_bytes()
    applied = run_aligner("fix", "--apply", *flags, "--report", "r.md", cwd=repo)
    assert applied.returncode == 1, applied.stderr
    for f in (golden / "expected").rglob("*"):
        if f.is_file():
            assert (repo / f.relative_to(golden / "expected")).read_bytes() == f.read_bytes(), f
    assert (repo / "r.md").read_bytes() == (golden / "expected-report.md").read_bytes()
    again = run_aligner("fix", "--apply", *flags, cwd=repo)
    assert again.returncode == 0 and "nothing to change" in again.stderr
    check = run_aligner("check", "--no-cache", cwd=repo)
    assert check.returncode == 0, check.stdout


def test_golden_dynamo_versions_are_the_snapshot_facts():
    want = expected()
    vllm = (FIXTURES / "fix" / "dynamo" / "expected" / "container" / "Dockerfile.dynamo-vllm").read_bytes()
    pins = {p.component: p.version for p in read("x", vllm).pins if p.kind == "arg"}
    assert pins["vllm"] == want["vllm"] and pins["flashinfer-python"] == want["flashinfer-python"]
    base = (FIXTURES / "fix" / "dynamo" / "expected" / "container" / "Dockerfile.base").read_bytes()
    assert {p.component: p.version for p in read("x", base).pins if p.kind == "arg"}["nixl"] == want["nixl"]


def test_unsafe_fixes_wait_for_the_flag(tmp_path, run_aligner):
    repo = copy("dynamo", tmp_path)
    result = run_aligner("fix", "--apply", cwd=repo)
    assert "unsafe, not applied: a downgrade" in result.stderr and "1.1.0rc5 is a pre-release" in result.stderr
    vllm = (repo / "container" / "Dockerfile.dynamo-vllm").read_text()
    assert 'ARG VLLM_REF="v0.11.0"' in vllm  # the downgrade waits for --unsafe-fixes
    assert 'ARG FLASHINF_REF=""' not in vllm  # the safe fill-in is applied


def test_json_report_and_exit_zero(tmp_path, run_aligner):
    repo = copy("crlf-vllm", tmp_path)
    result = run_aligner("fix", "--report", "r.json", "--exit-zero", cwd=repo)
    assert result.returncode == 0
    report = json.loads((repo / "r.json").read_text())
    assert {e["component"] for e in report["edits"]} == {"vllm", "flashinfer-python"}
    assert report["diff"].startswith("--- a/Dockerfile.vllm")
    assert any(f["code"] == "AL002" for f in report["findings_fixed"])


def test_symlink_out_of_the_repository_is_refused(tmp_path, run_aligner):
    repo = copy("crlf-vllm", tmp_path)
    outside = tmp_path / "outside.Dockerfile"
    outside.write_bytes((repo / "Dockerfile.vllm").read_bytes())
    (repo / "Dockerfile.vllm").unlink()
    (repo / "Dockerfile.vllm").symlink_to(outside)
    result = run_aligner("fix", "--apply", cwd=repo)
    assert result.returncode == 2 and "symlink that leads out of the repository" in result.stderr
    assert outside.read_bytes() == (FIXTURES / "repos" / "crlf-vllm" / "Dockerfile.vllm").read_bytes()


def _plan_for(paths, targets):
    files = []
    for p in paths:
        fp = FilePlan(str(p), p.read_bytes())
        add_edits(fp, p.name, targets, "img", True, catalog())
        files.append(finish(fp))
    return Plan(files, None, {})


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path):
    df = tmp_path / "Dockerfile"
    df.write_text("FROM python:3.12\nARG NIXL_REF=0.6.0\n")
    plan = _plan_for([df], {"nixl": ("0.7.0", "test")})
    df.write_text("FROM python:3.12\nARG NIXL_REF=0.6.0\n# edited meanwhile\n")
    with pytest.raises(InputError, match="changed on disk since"):
        apply(plan, tmp_path)
    assert df.read_text().endswith("# edited meanwhile\n")


def test_failure_midway_leaves_each_file_wholly_old_or_wholly_new(tmp_path, monkeypatch):
    files = []
    for n in range(3):
        f = tmp_path / f"Dockerfile.{n}"
        f.write_text(f"FROM python:3.12\nARG NIXL_REF=0.6.0\nRUN echo {n}\n")
        f.chmod(0o640)
        files.append(f)
    old = {f: f.read_bytes() for f in files}
    plan = _plan_for(files, {"nixl": ("0.7.0", "test")})
    new = {Path(fp.path): fp.new for fp in plan.files}
    real_replace, calls = os.replace, []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="simulated"):
        apply(plan, tmp_path)
    states = [f.read_bytes() for f in files]
    assert states[0] == new[files[0]] and states[1] == old[files[1]] and states[2] == old[files[2]]
    assert oct(files[0].stat().st_mode & 0o777) == oct(0o640)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


PROPS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(dockerfiles(), st.data())
def test_fix_changes_only_value_bytes_and_is_idempotent(data, draw):
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "Dockerfile"
        path.write_bytes(data)
        comps = sorted({p.component for p in read(str(path), data).pins if p.component not in ("cuda", "python")
                        and not p.component.startswith("ngc-")})
        # locked versions are full releases (image tags such as sglang's need three parts)
        release = st.tuples(*[st.integers(0, 40)] * 3).map(lambda t: ".".join(map(str, t)))
        targets = {c: (draw.draw(release), "generated") for c in comps}
        fp = finish(FilePlan(str(path), data))
        add_edits(fp, "Dockerfile", targets, "img", True, catalog())
        finish(fp)
        before = [p for p in read("x", data).pins if p.start is not None]
        after = [p for p in read("x", fp.new).pins if p.start is not None]
        cut = lambda raw, pins: b"\0".join(_outside(raw, pins))
        assert cut(fp.new, after) == cut(data, before)
        second = FilePlan(str(path), fp.new)
        add_edits(second, "Dockerfile", targets, "img", True, catalog())
        assert finish(second).new == fp.new  # a second apply changes nothing


def _outside(raw, pins):
    spans = sorted({(p.start, p.end) for p in pins})
    out, pos = [], 0
    for start, end in spans:
        if start >= pos:
            out.append(raw[pos:start])
            pos = end
    out.append(raw[pos:])
    return out
