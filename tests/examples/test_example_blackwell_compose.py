"""examples/blackwell-compose end to end, through this checkout's CLI.

Every expected value is derived here from the example's own files and from
rules/ (rules/gpus.toml, rules/cuda.toml, the release metadata in
rules/snapshot), never copied from aligner's output.
"""

import re

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.support.cuda_facts import added, gpu_compute as gpu_compute_of, published
from tests.support.example_docs import blocks, run_all
from tests.support.example_facts import (
    EXAMPLES, arch_row, arg, check, copy_example, gpu_compute, line_of, release, releases, rules,
    set_arg, tomllib,
)


EXAMPLE = EXAMPLES / "blackwell-compose"
DF = "Dockerfile"
ARM64 = "linux/arm64"


# ---- facts from rules/ ---------------------------------------------------------------------------

def minor_of(cuda: str) -> str:
    return ".".join(cuda.split(".")[:2])


def toolkit_driver(cuda: str) -> str:
    (row,) = [r for r in rules("cuda")["driver"] if r["cuda"] == cuda]
    return row["linux"]


def pinned(project: str, version: str, name: str) -> str:
    """The one version `project==version` pins `name` to (no extra), from its Requires-Dist."""
    (req,) = [Requirement(line) for line in release(project, version)["requires-dist"]
              if Requirement(line).name.replace("_", "-") == name
              and (Requirement(line).marker is None or Requirement(line).marker.evaluate({"extra": ""}))]
    (spec,) = req.specifier
    assert spec.operator == "==", req
    return spec.version


def label_cuda(torch: str) -> str:
    """2.10.0+cu130 -> 13.0: the CUDA a torch build's local label names."""
    digits = re.fullmatch(r"cu(\d+)", Version(torch).local).group(1)
    return f"{digits[:-1]}.{digits[-1]}"


def locked_cuda() -> str:
    """The CUDA the lock must take: at least what the GB10 needs (its stated minimum, or the release that added
    its compute capability), below the first release whose driver floor is above the Spark's driver; of the
    lowest such minor, its newest patch published as this base's tag."""
    image = config()["images"]["blackwell-vllm"]
    floor = max([added(gpu_compute_of(g)) for g in image["gpus"]]
                + [r["cuda"] for r in rules("gpus").get("min-cuda", []) if r["gpu"] in image["gpus"]], key=Version)
    over = min((r["cuda"] for r in rules("cuda")["driver"] if Version(r["linux"]) > Version(image["driver"])
                and Version(r["cuda"]) >= Version(floor)), key=Version)
    have = [v for v in published("devel", "ubuntu24.04") if Version(floor) <= Version(v) < Version(over)]
    lowest = min(Version(v).release[:2] for v in have)
    return str(max((Version(v) for v in have if Version(v).release[:2] == lowest)))


def entries(arch_list: str) -> list:
    return arch_list.strip("'\"").split()


def covers(entry: str, gpu: tuple) -> bool:
    """Plain code for X.Y runs on the same major with a minor at least Y (rules/cuda.toml's header)."""
    major, minor = (int(x) for x in entry.split("."))
    return gpu[0] == major and gpu[1] >= minor


# ---- the example's own files ----------------------------------------------------------------------

def config() -> dict:
    return tomllib.loads((EXAMPLE / "aligner.toml").read_text())


@pytest.fixture
def repo(tmp_path):
    return copy_example(EXAMPLE, tmp_path)


# ---- the tests ------------------------------------------------------------------------------------

def test_compose_builds_the_configured_dockerfile():
    compose = (EXAMPLE / "compose.yaml").read_text()
    assert "dockerfile: Dockerfile\n" in compose and "context: .\n" in compose
    image = config()["images"]["blackwell-vllm"]
    assert image["dockerfile"] == DF and image["gpus"] == ["GB10", "GB200"]
    assert config()["platforms"] == [ARM64]


def test_check_judges_the_cuda_torch_arch_fit_and_nothing_else(repo, run_aligner):
    df = repo / DF
    cuda, torch = arg(df, "CUDA_VERSION"), arg(df, "TORCH_VERSION")
    vllm, flashinfer = arg(df, "VLLM_REF").lstrip("v"), arg(df, "FLASHINFER_VERSION")
    arch_list = arg(df, "TORCH_CUDA_ARCH_LIST")
    driver = config()["images"]["blackwell-vllm"]["driver"]
    torch_cuda = label_cuda(torch)
    vllm_torch, vllm_flashinfer = pinned("vllm", vllm, "torch"), pinned("vllm", vllm, "flashinfer-python")
    row = arch_row(cuda)
    uncompilable = [e for e in entries(arch_list) if e not in row["compute"]]

    # what the facts say, before asking aligner
    assert torch_cuda.split(".")[0] == cuda.split(".")[0] and torch_cuda != minor_of(cuda)  # minor skew
    assert Version(toolkit_driver(cuda)) > Version(driver)
    assert not SpecifierSet(f"=={vllm_torch}").contains(torch) and Version(vllm_torch) < Version(torch)
    assert Version(flashinfer) < Version(vllm_flashinfer)
    assert uncompilable == []
    for gpu in config()["images"]["blackwell-vllm"]["gpus"]:
        assert any(covers(e, gpu_compute(gpu)) for e in entries(arch_list)), gpu
    for project, version in (("vllm", vllm), ("torch", Version(torch).public), ("flashinfer-python", flashinfer)):
        assert ARM64 in release(project, version)["platforms"], project

    rc, findings = check(run_aligner, repo)
    assert rc == 1
    got = sorted((f["code"], f["path"], f["line"], f["severity"]) for f in findings)
    cuda_line, torch_line = line_of(df, "ARG CUDA_VERSION="), line_of(df, "ARG TORCH_VERSION=")
    fi_line = line_of(df, "ARG FLASHINFER_VERSION=")
    # a minor CUDA skew is a notice (torch's extension builder accepts it)
    assert got == sorted([("AL005", DF, cuda_line, "info"), ("AL005", DF, cuda_line, "error"),
                          ("AL003", DF, torch_line, "error"), ("AL003", DF, fi_line, "error"),
                          ("AL012", "lock/aligner.lock", 1, "error")])  # every finding, no other, no AL007/AL100
    pick = lambda code, line, sev=None: next(f for f in findings if f["code"] == code and f["line"] == line
                                             and (sev is None or f["severity"] == sev))
    skew, old_driver = pick("AL005", cuda_line, "info"), pick("AL005", cuda_line, "error")
    assert f"CUDA {cuda} differs in minor from torch {torch} (CUDA {torch_cuda})" in skew["message"]
    assert f"needs a Linux driver >= {toolkit_driver(cuda)}" in old_driver["message"]
    assert f"the target host has {driver}" in old_driver["message"]
    for f in (skew, old_driver):  # the lock's CUDA, held back with the torch downgrade
        assert f["fix"]["replacement"] == locked_cuda() and not f["fix"]["safe"]
    t = pick("AL003", torch_line)
    assert f"torch {torch} does not satisfy vllm {vllm}" in t["message"]
    assert f"requires torch=={vllm_torch}" in t["message"]
    assert t["fix"]["replacement"] == vllm_torch and not t["fix"]["safe"]  # a downgrade
    fi = pick("AL003", fi_line)
    assert f"flashinfer-python {flashinfer} does not satisfy vllm {vllm}" in fi["message"]
    assert f"requires flashinfer-python=={vllm_flashinfer}" in fi["message"]


def test_fix_applies_nothing_the_team_must_decide(repo, run_aligner):
    df = repo / DF
    before_text = df.read_text()
    _, before = check(run_aligner, repo)
    result = run_aligner("fix", "--apply", "--report", "fix-report.md", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: the unsafe changes are left
    assert df.read_text() == before_text
    assert (repo / "lock" / "aligner.lock").exists()  # no file changed, but the missing lock is written
    vllm = arg(df, "VLLM_REF").lstrip("v")
    report = (repo / "fix-report.md").read_text()
    edits = report.split("| where |", 1)[1].split("###", 1)[0]
    torch_to, fi_to = pinned("vllm", vllm, "torch"), pinned("vllm", vllm, "flashinfer-python")
    assert f"| torch | {arg(df, 'TORCH_VERSION')} | {torch_to} | held back: a downgrade" in edits
    assert f"| flashinfer-python | {arg(df, 'FLASHINFER_VERSION')} | {fi_to} | held back with the unsafe changes" in edits
    assert f"| cuda | {arg(df, 'CUDA_VERSION')} | {locked_cuda()} | held back with the unsafe changes" in edits
    _, after = check(run_aligner, repo)
    # every finding is left, each needs a decision fix does not take; only the lock is written
    assert after == [f for f in before if f["code"] != "AL012"]


def test_the_ways_out_the_readme_names(repo, run_aligner):
    """CUDA 13.0.2 for both AL005s, vLLM 0.17.0 (with its flashinfer) for both AL003s."""
    df = repo / DF
    torch = arg(df, "TORCH_VERSION")
    driver = config()["images"]["blackwell-vllm"]["driver"]
    # the newest CUDA of torch's minor whose toolkit driver the Spark has
    fits = [r["cuda"] for r in rules("cuda")["driver"]
            if minor_of(r["cuda"]) == label_cuda(torch) and Version(r["linux"]) <= Version(driver)]
    cuda = max(fits, key=Version)
    assert cuda == "13.0.2" == locked_cuda()  # what the README says
    # the first vLLM whose metadata asks for this torch's release
    vllm = min((r["version"] for r in releases("vllm") if r["requires-dist"] and
                any(Requirement(x).name == "torch" and Version(torch).public in Requirement(x).specifier
                    for x in r["requires-dist"])), key=Version)
    assert vllm == "0.17.0"
    set_arg(df, "CUDA_VERSION", cuda)
    set_arg(df, "VLLM_REF", f"v{vllm}")
    set_arg(df, "FLASHINFER_VERSION", pinned("vllm", vllm, "flashinfer-python"))
    set_arg(df, "TORCH_CUDA_ARCH_LIST", "'" + " ".join(e for e in entries(arg(df, "TORCH_CUDA_ARCH_LIST"))
                                                      if e in arch_row(cuda)["compute"]) + "'")
    _, findings = check(run_aligner, repo)
    assert [f["code"] for f in findings] == ["AL012"]


def test_readme_shows_what_the_commands_print():
    shown = blocks((EXAMPLE / "README.md").read_text())
    assert [cmd for cmd, _ in shown] == ["aligner check", "aligner fix", "aligner fix --apply --report fix-report.md",
                                         "cat fix-report.md", "aligner check"]
    replayed = run_all(EXAMPLE, [cmd for cmd, _ in shown])
    assert [out for out, _ in replayed] == [out for _, out in shown]
    # check: findings; fix: changes to show (held back, and the lock); fix --apply: the unsafe ones are left
    assert [rc for _, rc in replayed] == [1, 1, 1, 0, 1]


# ---- gaps found while writing the example; each test says what should happen ----------------------

def test_a_local_version_is_its_release(repo, run_aligner):
    df = repo / DF
    df.write_text(df.read_text().replace("# aligner: ignore=AL007\n", ""))
    _, findings = check(run_aligner, repo)
    assert not [f for f in findings if f["code"] == "AL007"]


def test_fix_leaves_a_local_version_that_satisfies_the_lock(repo, run_aligner):
    df = repo / DF
    set_arg(df, "VLLM_REF", "v0.17.0")
    # vllm 0.17.0 wants a newer flashinfer than the file's (an upgrade, safe): the preview shows that change
    wanted = pinned("vllm", "0.17.0", "flashinfer-python")
    assert Version(wanted) > Version(arg(df, "FLASHINFER_VERSION"))
    result = run_aligner("fix", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: changes shown
    assert f"+ARG FLASHINFER_VERSION={wanted}" in result.stdout
    assert not [line for line in result.stderr.splitlines() if line.startswith(f"{DF}:") and " torch " in line]


@pytest.mark.xfail(strict=True, reason="fix --unsafe-fixes writes torch 2.9.1 over 2.10.0+cu130 and drops the "
                                       "+cu130 that names the build; check then reads torch 2.9.1's x86_64 CUDA 12 "
                                       "runtime and reports a CUDA major mismatch the image does not have")
def test_fix_keeps_the_build_label_of_torch(repo, run_aligner):
    df = repo / DF
    label = Version(arg(df, "TORCH_VERSION")).local
    result = run_aligner("fix", "--apply", "--unsafe-fixes", cwd=repo)
    assert result.returncode == 1, result.stderr  # 1: changes applied (the torch downgrade among them)
    assert arg(df, "TORCH_VERSION") == f"{pinned('vllm', arg(df, 'VLLM_REF').lstrip('v'), 'torch')}+{label}"
