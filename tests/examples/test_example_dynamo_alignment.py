"""examples/dynamo-alignment end to end, through this checkout's CLI.

Every expected version is derived here from the example's own inputs (its
upstream pyproject and Dockerfiles) and from the releases' metadata in
rules/snapshot, never copied from aligner's output.
"""

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.example_docs import blocks, run_all
from tests.support.example_facts import (
    EXAMPLES, arg, by_place, check, copy_example, line_of, release, rules, safe_fix_changes_nothing, tomllib,
    upstream_pin as upstream_pin_of,
)


EXAMPLE = EXAMPLES / "dynamo-alignment"


def upstream_pin(extra: str, name: str):
    return upstream_pin_of(EXAMPLE, extra, name)


def required(project: str, version: str, name: str, extra: str = "") -> str:
    """The one version `project==version` pins `name` to (for `extra`), from its Requires-Dist."""
    for line in release(project, version)["requires-dist"]:
        req = Requirement(line)
        if req.name.replace("_", "-") == name and (req.marker is None or req.marker.evaluate({"extra": extra})):
            (spec,) = req.specifier
            assert spec.operator == "==", line
            return spec.version
    raise AssertionError(f"{project} {version} does not pin {name}")


@pytest.fixture
def repo(tmp_path):
    return copy_example(EXAMPLE, tmp_path)



def test_check_finds_every_misalignment_and_nothing_else(repo, run_aligner):
    vllm_df, trt_df = repo / "Dockerfile.dynamo-vllm", repo / "Dockerfile.dynamo-trtllm"
    vllm_pin = arg(vllm_df, "VLLM_REF").lstrip("v")
    vllm_up = upstream_pin("vllm", "vllm")
    trt_up = upstream_pin("trtllm", "tensorrt-llm")
    assert vllm_pin not in vllm_up.specifier  # the drift the example is about
    rc, findings = check(run_aligner, repo)
    assert rc == 1
    found = by_place(findings)
    expected = {
        ("AL001", "Dockerfile.dynamo-trtllm", line_of(trt_df, "ARG TENSORRTLLM_PIP_WHEEL=")),
        ("AL002", "Dockerfile.dynamo-vllm", line_of(vllm_df, "ARG VLLM_REF=")),
        ("AL001", "Dockerfile.dynamo-vllm", line_of(vllm_df, "ARG FLASHINF_REF=")),
        ("AL012", "lock/aligner.lock", 1),
    }
    assert set(found) == expected
    unpinned = found[("AL001", "Dockerfile.dynamo-trtllm", line_of(trt_df, "ARG TENSORRTLLM_PIP_WHEEL="))]["message"]
    assert f"{trt_up.name} is not pinned" in unpinned and "no version" in unpinned
    drift = found[("AL002", "Dockerfile.dynamo-vllm", line_of(vllm_df, "ARG VLLM_REF="))]["message"]
    assert f"vllm {vllm_pin} is outside {vllm_up}" in drift
    flashinf = found[("AL001", "Dockerfile.dynamo-vllm", line_of(vllm_df, "ARG FLASHINF_REF="))]
    assert "flashinfer-python" in flashinf["message"]
    assert "missing" in found[("AL012", "lock/aligner.lock", 1)]["message"]


def test_the_hand_made_flashinfer_pin_breaks_vllms_own_requirement(repo, run_aligner):
    df = repo / "hand-aligned" / "Dockerfile.dynamo-vllm"
    vllm = arg(df, "VLLM_REF").lstrip("v")
    hand = arg(df, "FLASHINF_REF").lstrip("v")
    needed = required("vllm", vllm, "flashinfer-python", extra="flashinfer")
    assert hand != needed
    rc, findings = check(run_aligner, repo, "hand-aligned/Dockerfile.dynamo-vllm")
    assert rc == 1
    found = by_place(findings)
    place = ("AL003", "hand-aligned/Dockerfile.dynamo-vllm", line_of(df, "ARG FLASHINF_REF="))
    # 0.1.8 is older than the flashinfer-python releases the snapshot keeps: a notice that it is not checked
    since = rules("components")["component"]["flashinfer-python"]["since"]
    assert Version(hand) < Version(since)
    old = ("AL014", "hand-aligned/Dockerfile.dynamo-vllm", line_of(df, "ARG FLASHINF_REF="))
    assert set(found) == {place, old, ("AL012", "lock/aligner.lock", 1)}
    assert f"flashinfer-python {hand} does not satisfy vllm {vllm} [flashinfer]" in found[place]["message"]
    assert f"requires flashinfer-python=={needed}" in found[place]["message"]


def test_after_fix_nothing_is_left_and_the_pins_are_the_required_ones(repo, run_aligner):
    result = run_aligner("fix", "--apply", "--unsafe-fixes", "--report", "fix-report.md", cwd=repo)
    assert result.returncode == 0, result.stderr  # everything fix found was written
    rc, findings = check(run_aligner, repo)
    assert (rc, findings) == (0, [])
    vllm_up = upstream_pin("vllm", "vllm")
    (spec,) = vllm_up.specifier
    df = repo / "Dockerfile.dynamo-vllm"
    assert arg(df, "VLLM_REF") == f"v{spec.version}"
    assert arg(df, "FLASHINF_REF").lstrip("v") == required("vllm", spec.version, "flashinfer-python", "flashinfer")
    (trt,) = upstream_pin("trtllm", "tensorrt-llm").specifier
    assert arg(repo / "Dockerfile.dynamo-trtllm", "TENSORRTLLM_PIP_WHEEL") == f"tensorrt-llm=={trt.version}"
    assert (repo / "hand-aligned" / "Dockerfile.dynamo-vllm").read_bytes() == \
        (EXAMPLE / "hand-aligned" / "Dockerfile.dynamo-vllm").read_bytes()
    lock = tomllib.loads((repo / "lock" / "aligner.lock").read_text())
    (image,) = [i for i in lock["image"] if i["name"] == "dynamo-vllm"]
    assert image["pins"]["nixl"] == arg(repo / "Dockerfile.base", "NIXL_REF")  # 0.6.0 was inside nixl<=0.7.0


def test_readme_shows_what_the_commands_print():
    shown = blocks((EXAMPLE / "README.md").read_text())
    assert [cmd for cmd, _ in shown] == [
        "aligner check", "aligner check hand-aligned/Dockerfile.dynamo-vllm", "aligner fix",
        "aligner fix --apply --unsafe-fixes --report fix-report.md", "cat fix-report.md", "aligner check"]
    replayed = run_all(EXAMPLE, [cmd for cmd, _ in shown])
    assert [out for out, _ in replayed] == [out for _, out in shown]
    # `fix` shows changes (all held back for --unsafe-fixes, and the lock); with it, everything is written
    assert [rc for _, rc in replayed] == [1, 1, 1, 0, 0, 0]


def test_safe_fixes_alone_bring_no_new_finding(repo, run_aligner):
    _, before = check(run_aligner, repo)
    vllm_df = repo / "Dockerfile.dynamo-vllm"
    # every change here is unsafe, so none is safe to apply alone: vllm moves down to the upstream's pin
    # (a downgrade), tensorrt-llm to a pre-release, and flashinfer waits for the vllm it goes with
    (vllm_spec,) = upstream_pin("vllm", "vllm").specifier
    assert Version(vllm_spec.version) < Version(arg(vllm_df, "VLLM_REF").lstrip("v"))
    (trt_spec,) = upstream_pin("trtllm", "tensorrt-llm").specifier
    assert Version(trt_spec.version).is_prerelease
    safe_fix_changes_nothing(run_aligner, repo, sorted(repo.rglob("Dockerfile*")), before)
