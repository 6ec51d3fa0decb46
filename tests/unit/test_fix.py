"""`aligner fix`: golden repos byte for byte, safety, atomic writes, and properties."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.example_facts import EXAMPLES, copy_example
from tests.support.repos import copy_repo
from aligner.know.components import catalog
from aligner.read.dockerfile import read
from aligner.base.errors import InputError
from aligner.decide.fix import FilePlan, Plan, add_edits, apply, finish
from tests.support.dockerfile_gen import dockerfiles
from tests.unit.test_lock import expected

FIXTURES = Path(__file__).parent.parent / "fixtures"


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
    assert applied.returncode == 0, applied.stderr  # everything it found was written
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


def test_unsafe_fixes_wait_for_the_flag_and_hold_back_their_image(tmp_path, run_aligner):
    repo = copy("dynamo", tmp_path)
    before = json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=repo).stdout)["findings"]
    result = run_aligner("fix", "--apply", cwd=repo)
    # every change of this repo is unsafe or held back with one: 1, they are left, and it says so
    assert result.returncode == 1 and "4 unsafe changes held back" in result.stderr, result.stderr
    assert "nothing to change" not in result.stderr
    assert "unsafe, not applied: a downgrade" in result.stderr and "1.1.0rc5 is a pre-release" in result.stderr
    vllm = (repo / "container" / "Dockerfile.dynamo-vllm").read_text()
    assert 'ARG VLLM_REF="v0.11.0"' in vllm  # the downgrade waits for --unsafe-fixes
    # and so does the flashinfer the lock took from the held-back vllm's metadata: written next to
    # vllm 0.11.0 it would be a new AL003
    assert 'ARG FLASHINF_REF=""' in vllm and "held back with the unsafe changes of image" in result.stderr
    after = json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=repo).stdout)["findings"]
    new = {(f["path"], f["line"], f["code"]) for f in after} - {(f["path"], f["line"], f["code"]) for f in before}
    assert not {x for x in new if x[2] != "AL012"}, new  # a partial fix introduces no finding


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


def test_stale_lock_relock_agrees_with_the_fixed_files(tmp_path, run_aligner):
    repo = copy("crlf-vllm", tmp_path)
    assert run_aligner("lock", cwd=repo).returncode == 0
    df = repo / "Dockerfile.vllm"
    df.write_bytes(df.read_bytes().replace(b"nixl==0.6.0", b"nixl==0.5.0"))  # the lock is stale now
    assert run_aligner("fix", "--apply", "--exit-non-zero-on-fix", cwd=repo).returncode == 1  # it wrote
    assert run_aligner("lock", "--check", cwd=repo).returncode == 0
    assert run_aligner("fix", "--apply", cwd=repo).returncode == 0  # and nothing flips back


def test_a_commit_is_left_to_the_user(tmp_path, run_aligner):
    repo = copy("crlf-vllm", tmp_path)
    df = repo / "Dockerfile.vllm"
    df.write_bytes(df.read_bytes().replace(b"ARG VLLM_REF='v0.10.1'", b"ARG VLLM_REF='" + b"a" * 40 + b"'"))
    result = run_aligner("fix", "--apply", cwd=repo)
    assert "VLLM_REF holds a commit" in result.stderr
    assert b"a" * 40 in df.read_bytes()


def test_one_dockerfile_in_two_images_that_disagree_is_left_alone(tmp_path, run_aligner):
    repo = copy("crlf-vllm", tmp_path)
    up = repo / "upstream" / "pyproject.toml"
    up.write_text(up.read_text().replace("[project.optional-dependencies]\n",
                                         '[project.optional-dependencies]\nold = ["nixl==0.6.0"]\nnew = ["nixl==0.7.0"]\n'))
    (repo / "aligner.toml").write_text('upstream = "upstream/pyproject.toml"\nplatforms = ["linux/amd64"]\n'
                                       '[images.a]\ndockerfile = "Dockerfile.vllm"\nextra = "old"\n'
                                       '[images.b]\ndockerfile = "Dockerfile.vllm"\nextra = "new"\n')
    before = (repo / "Dockerfile.vllm").read_bytes()
    assert b"nixl==0.6.0" in before
    result = run_aligner("fix", "--apply", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: left to the user
    assert "one Dockerfile cannot hold both" in result.stderr and "nothing to change" not in result.stderr
    assert (repo / "Dockerfile.vllm").read_bytes() == before  # left alone: not a byte changed
    again = run_aligner("fix", "--apply", cwd=repo)
    assert again.returncode == 1 and "one Dockerfile cannot hold both" in again.stderr, again.stderr
    assert (repo / "Dockerfile.vllm").read_bytes() == before


def test_a_moved_tag_drops_its_digest_and_says_so(tmp_path, run_aligner):
    digest = "@sha256:" + "0" * 64
    (tmp_path / "Dockerfile").write_text(f"ARG VLLM_TAG=v0.11.0\nFROM vllm/vllm-openai:${{VLLM_TAG}}{digest}\n")
    (tmp_path / "upstream.toml").write_text('[project]\nname = "x"\n[project.optional-dependencies]\nv = ["vllm==0.10.2"]\n')
    (tmp_path / "aligner.toml").write_text('upstream = "upstream.toml"\nplatforms = ["linux/amd64"]\n'
                                           '[images.a]\ndockerfile = "Dockerfile"\nextra = "v"\n')
    result = run_aligner("fix", "--apply", "--unsafe-fixes", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # 1: the digest to pin again is left to the user
    assert "dropped the digest of the old tag" in result.stderr
    assert (tmp_path / "Dockerfile").read_text() == "ARG VLLM_TAG=v0.10.2\nFROM vllm/vllm-openai:${VLLM_TAG}\n"


def test_an_image_tag_that_encodes_versions_is_rebuilt(tmp_path, run_aligner):
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12\nARG NIXL_REF=0.6.0\nARG IMAGE_TAG=v0.10.2-aibrix-v0.5.0-nixl-0.6.0-20251123\n"
        "RUN pip install vllm==0.10.2 nixl==${NIXL_REF}\n")
    (tmp_path / "upstream.toml").write_text('[project]\nname = "x"\n[project.optional-dependencies]\n'
                                            'v = ["vllm==0.10.2", "nixl==0.7.0"]\n')
    (tmp_path / "aligner.toml").write_text('upstream = "upstream.toml"\nplatforms = ["linux/amd64"]\n'
                                           '[images.a]\ndockerfile = "Dockerfile"\nextra = "v"\n')
    result = run_aligner("fix", "--apply", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # everything it found was written
    text = (tmp_path / "Dockerfile").read_text()
    assert "ARG NIXL_REF=0.7.0\n" in text
    assert "ARG IMAGE_TAG=v0.10.2-aibrix-v0.5.0-nixl-0.7.0-20251123\n" in text
    assert run_aligner("check", "--no-cache", "--select", "AL010", cwd=tmp_path).returncode == 0


def test_a_change_midway_writes_nothing(tmp_path):
    files = []
    for n in range(2):
        f = tmp_path / f"Dockerfile.{n}"
        f.write_text("FROM python:3.12\nARG NIXL_REF=0.6.0\n")
        files.append(f)
    plan = _plan_for(files, {"nixl": ("0.7.0", "test")})
    files[1].write_text("FROM python:3.12\nARG NIXL_REF=0.6.0\n# changed\n")
    with pytest.raises(InputError, match="nothing written"):
        apply(plan, tmp_path)
    assert files[0].read_text() == "FROM python:3.12\nARG NIXL_REF=0.6.0\n"


def test_path_in_no_image_is_an_error(tmp_path, run_aligner):
    repo = copy("crlf-vllm", tmp_path)
    (repo / "other.Dockerfile").write_text("FROM python:3.12\n")
    result = run_aligner("fix", "other.Dockerfile", cwd=repo)
    assert result.returncode == 2 and "not a Dockerfile of any configured image" in result.stderr


def test_a_dry_run_json_report_says_nothing_was_applied(tmp_path, run_aligner):
    repo = copy_example(EXAMPLES / "dynamo-alignment", tmp_path)
    before = {p.name: p.read_bytes() for p in repo.glob("Dockerfile*")}
    dry = run_aligner("fix", "--unsafe-fixes", "--report", "dry.json", cwd=repo)
    assert dry.returncode == 1, dry.stderr  # changes shown
    report = json.loads((repo / "dry.json").read_text())
    assert report["applied"] is False and report["edits"]
    assert all(e["applied"] is False for e in report["edits"]), report["edits"]
    assert {p.name: p.read_bytes() for p in repo.glob("Dockerfile*")} == before, "a dry run wrote a Dockerfile"
    wet = run_aligner("fix", "--apply", "--unsafe-fixes", "--report", "wet.json", cwd=repo)
    assert wet.returncode == 0, wet.stderr  # everything it found was written
    report = json.loads((repo / "wet.json").read_text())
    assert report["applied"] is True and all(e["applied"] for e in report["edits"]), report["edits"]
