"""check, lock, fix and the hook tell one story, over the examples and scenarios of their own.

For every case: the fix check shows on each finding is exactly an edit fix makes (same bytes, same
safety), and every edit fix makes to a pin is shown by check; each reason in the written lock is
true of the requirement it names; the report's count equals its table and the diff; a second
`fix --apply` changes nothing; and the hook's `check FILE` shows what `check` shows for FILE's image.

The scenarios' Dockerfiles take their shapes from real ones: the pip line of vLLM's docker/Dockerfile
(several pins on one `uv pip install` line), the ARG block of Dynamo's container/Dockerfile.vllm
(VLLM_REF="v…", FLASHINF_REF), and a base image chained by `FROM ${BASE_IMAGE}` as Dynamo's
Dockerfile and Dockerfile.vllm are. The versions written are inputs; what is asserted is read from
rules/snapshot or from what the commands print, never typed in as an expected result.
"""

import json
import re
import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.support.cuda_facts import added, gpu_compute, smallest_move_at_least
from tests.support.example_facts import EXAMPLES, release, tomllib

UPSTREAM = """[project]
name = "team-serving"
version = "1.0.0"
requires-python = ">=3.10"
dependencies = []

[project.optional-dependencies]
vllm = ["vllm[flashinfer]=={vllm}"]
"""

CONFIG = """upstream = "{upstream}"
platforms = ["linux/amd64"]

[images.serve]
dockerfiles = [{files}]
{extra}
"""

# vLLM's docker/Dockerfile installs several pinned packages on one line
PIP_LINE = """ARG CUDA_VERSION=12.8.1
FROM nvidia/cuda:${{CUDA_VERSION}}-devel-ubuntu22.04
ARG PYTHON_VERSION=3.12
RUN uv pip install --system {pins}
"""

# a community image on NVIDIA's CUDA devel base: the distribution's python3-pip, an arch list, one pip line
CUDA_MOVES = """FROM nvidia/cuda:12.4.1-devel-ubuntu22.04
RUN apt-get update && apt-get install -y --no-install-recommends python3-pip
ENV TORCH_CUDA_ARCH_LIST="8.0 9.0 10.0"
RUN pip install torch==2.7.1 vllm==0.10.2
"""

# Dynamo's container/Dockerfile.vllm: the engine and flashinfer as quoted ARGs; vLLM built from its ref
REFS = """ARG BASE_IMAGE="nvidia/cuda"
ARG BASE_IMAGE_TAG="12.8.1-devel-ubuntu24.04"
FROM ${{BASE_IMAGE}}:${{BASE_IMAGE_TAG}}
ARG PYTHON_VERSION=3.12
ARG VLLM_REF="{vllm}"
ARG FLASHINF_REF="{flashinfer}"
ARG TORCH_VERSION={torch}
RUN uv pip install --system torch==${{TORCH_VERSION}}
RUN git clone https://github.com/vllm-project/vllm.git && cd vllm && git checkout ${{VLLM_REF}}
RUN uv pip install --system flashinfer-python==${{FLASHINF_REF}}
"""


def write(d: Path, files: dict) -> Path:
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    return d


def config(upstream: str, files, extra: str = "vllm") -> str:
    return CONFIG.format(upstream=upstream, files=", ".join(f'"{f}"' for f in files),
                         extra=f'extra = "{extra}"' if extra else "")


def upstream_repo(d: Path, vllm: str, dockerfile: str) -> Path:
    return write(d, {"upstream/pyproject.toml": UPSTREAM.format(vllm=vllm),
                     "aligner.toml": config("upstream/pyproject.toml", ["Dockerfile"]), "Dockerfile": dockerfile})


def scenario(name: str, d: Path, run_aligner) -> Path:
    """Write the scenario `name` into d (and run the steps that come before it); d."""
    if name == "upgrade past upstream":  # the Dockerfile moved to vllm 0.11.2; the upstream release is 0.11.0
        return write(d, {"aligner.toml": config("vllm==0.11.0", ["Dockerfile"], "flashinfer"),
                         "Dockerfile": PIP_LINE.format(pins="vllm==0.11.2 torch==2.8.0 flashinfer-python==0.3.1")})
    if name == "below upstream":  # the upstream moved on to 0.11.0; the Dockerfile still builds 0.10.2
        return upstream_repo(d, "0.11.0", REFS.format(vllm="v0.10.2", flashinfer="0.3.0", torch="2.8.0"))
    if name == "held-back unsafe":  # a downgrade to the upstream's vllm, and a safe flashinfer fill-in with it
        return upstream_repo(d, "0.10.2", REFS.format(vllm="v0.11.0", flashinfer="", torch="2.8.0"))
    if name == "upstream as a release":  # the upstream is a vLLM release, and the image does not pin vllm
        return write(d, {"aligner.toml": config("vllm==0.11.0", ["Dockerfile"], "flashinfer"),
                         "Dockerfile": PIP_LINE.format(pins="vllm torch==2.8.0 flashinfer-python==0.3.1")})
    if name == "cross-file python":  # the base file moves to a Python the engine file's vllm does not support
        base = "FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\nARG PYTHON_VERSION=3.14\n"
        engine = "ARG BASE_IMAGE=team/base\nFROM ${BASE_IMAGE}\nRUN uv pip install --system vllm==0.11.0 torch==2.8.0\n"
        return write(d, {"aligner.toml": config("vllm==0.11.0", ["Dockerfile.base", "Dockerfile.vllm"], ""),
                         "Dockerfile.base": base, "Dockerfile.vllm": engine})
    if name == "stale lock":  # locked, then the torch pin changed by hand
        upstream_repo(d, "0.11.0", REFS.format(vllm="v0.11.0", flashinfer="0.3.1", torch="2.8.0"))
        assert run_aligner("lock", cwd=d).returncode == 0
        df = d / "Dockerfile"
        df.write_text(df.read_text().replace("TORCH_VERSION=2.8.0", "TORCH_VERSION=2.7.1"))
        return d
    if name == "lock upgraded":  # `lock --upgrade-package vllm`, the Dockerfile not yet moved
        write(d, {"aligner.toml": config("", ["Dockerfile"], "").replace('upstream = ""\n', ""),
                  "Dockerfile": PIP_LINE.format(pins="vllm==0.10.2 torch==2.8.0")})
        assert run_aligner("lock", "--upgrade-package", "vllm", cwd=d).returncode == 0
        return d
    if name == "partial apply":  # two images; fix --apply on one of their files only
        text = PIP_LINE.format(pins="vllm==0.10.2 torch==2.7.1")
        cfg = ('platforms = ["linux/amd64"]\n[images.a]\ndockerfile = "Dockerfile.a"\n'
               '[images.b]\ndockerfile = "Dockerfile.b"\n')
        return write(d, {"aligner.toml": cfg, "Dockerfile.a": text, "Dockerfile.b": text})
    if name == "cuda moves with torch":  # a B200 target and a torch older than its vllm wants: CUDA moves too
        text = CUDA_MOVES
        cfg = 'platforms = ["linux/amd64"]\n[images.serve]\ndockerfile = "Dockerfile"\ngpus = ["H100", "B200"]\n'
        return write(d, {"aligner.toml": cfg, "Dockerfile": text})
    raise AssertionError(name)


SCENARIOS = ["upgrade past upstream", "below upstream", "held-back unsafe", "upstream as a release",
             "cross-file python", "stale lock", "lock upgraded", "partial apply", "cuda moves with torch"]
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "aligner.toml").exists())


def findings(run_aligner, d: Path, *args):
    result = run_aligner("check", "--no-cache", "--format", "json", *args, cwd=d)
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["findings"]


def report(run_aligner, d: Path, *args):
    """(status, the JSON report, the Markdown report, stderr) of one `fix` run; the Markdown one of a twin run
    in a copy, so that both describe the same state."""
    twin = d.parent / (d.name + "-twin")
    shutil.rmtree(twin, ignore_errors=True)
    shutil.copytree(d, twin)
    result = run_aligner("fix", *args, "--report", "r.json", cwd=d)
    assert result.returncode in (0, 1), result.stderr
    md = run_aligner("fix", *args, "--report", "r.md", cwd=twin)
    assert md.returncode == result.returncode, md.stderr
    return result.returncode, json.loads((d / "r.json").read_text()), (twin / "r.md").read_text(), result.stderr


def hints(found) -> set:
    return {(f["path"], f["fix"]["start"], f["fix"]["end"], f["fix"]["replacement"], f["fix"]["safe"])
            for f in found if f["fix"] and f["fix"]["start"] is not None}


def edits(doc, tags: bool = True) -> set:
    return {(e["path"], e["start"], e["end"], e["text"], e["safe"] and not e["held_back"]) for e in doc["edits"]
            if tags or not e["image_tag"]}


def assert_hints_are_edits(run_aligner, d: Path):
    shown = hints(findings(run_aligner, d))
    _, doc, _, _ = report(run_aligner, d)
    planned = edits(doc)
    pins = edits(doc, tags=False)  # a tag rebuilt from moved versions is part of their edits
    assert shown <= planned, ("check shows a fix that fix does not make", shown - planned)
    assert pins <= shown, ("fix edits a pin check shows no fix for", pins - shown)
    _, unsafe_doc, _, _ = report(run_aligner, d, "--unsafe-fixes")  # the same edits, all applied
    assert {e[:4] for e in edits(unsafe_doc)} == {e[:4] for e in planned}
    return doc


def assert_report_adds_up(doc, md: str, d: Path):
    n = doc["summary"]
    assert n["edits"] == len(doc["edits"]) == n["held_back"] + n.get("applied", n.get("to_apply"))
    rows = [x for x in md.split("| where |", 1)[1].split("\n\n", 1)[0].splitlines()[2:]] if doc["edits"] else []
    assert len(rows) == n["edits"], md
    assert md.splitlines()[4 if doc["lock"] else 2].startswith(f"{n['edits']} edit"), md
    # the applied edits are the diff's changed values: each one's line is a '-' line of its file's hunks
    removed = diff_lines(doc["diff"])
    for e in doc["edits"]:
        if not e["held_back"]:
            assert e["line"] in removed.get(e["path"], set()), (e, doc["diff"])
    assert set(removed) - {"lock/aligner.lock"} == {e["path"] for e in doc["edits"] if not e["held_back"]}
    assert ("lock/aligner.lock" in removed or "+++ b/lock/aligner.lock" in doc["diff"]) == (n["lock"] != "unchanged")


def diff_lines(diff: str) -> dict:
    """path -> the old line numbers of its '-' lines (a new file counts as a change of path with no old line)."""
    out, path, old = {}, None, 0
    for line in diff.splitlines():
        if line.startswith("+++ b/"):
            path = line[6:]
            out.setdefault(path, set())
        elif line.startswith("@@"):
            old = int(re.match(r"@@ -(\d+)", line).group(1))
        elif line.startswith("-") and not line.startswith("---"):
            out[path].add(old)
            old += 1
        elif line.startswith(" "):
            old += 1
    return out


def assert_lock_reasons_true(d: Path):
    lock = tomllib.loads((d / "lock" / "aligner.lock").read_text())
    for image in lock["image"]:
        for comp, why in image["why"].items():
            version = Version(image["pins"][comp])
            said = re.search(r"(?:pins|requires) ([A-Za-z0-9_.\[\]-]+[=<>!~][^ ()]*)", why)
            if said and not why.startswith(("kept", "newest")):
                assert Requirement(said.group(1)).specifier.contains(version, prereleases=True), (comp, why)
            kept = re.match(r"kept the pin of ([^:]+):(\d+)", why)
            if kept:  # the Dockerfile line named holds the version
                text = (d / kept.group(1)).read_text().splitlines()[int(kept.group(2)) - 1]
                assert str(version) in text or image["pins"][comp] in text, (comp, why, text)
            if "nothing constrains it" in why:
                assert not any(comp in w and w != why for w in image["why"].values()), (comp, image["why"])


def snapshot(d: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file() and not p.name.startswith("r.")}


def assert_hook_sees_the_image(run_aligner, d: Path):
    """The hook's `check FILE` shows what `check` shows in the files of FILE's image, except what compares the
    image with another one (AL009's "in image X"): that needs the other image, which the hook is not given."""
    cfg = tomllib.loads((d / "aligner.toml").read_text())
    other = lambda f: f["code"] == "AL009" and " in image " in f["message"]
    whole = [f for f in findings(run_aligner, d, "--extend-ignore", "AL012") if not other(f)]
    for image in cfg["images"].values():
        files = image.get("dockerfiles") or [image["dockerfile"]]
        for name in files:
            hooked = [f for f in findings(run_aligner, d, "--extend-ignore", "AL012", name) if not other(f)]
            mine = [f for f in whole if f["path"] in files]
            assert [f for f in hooked if f["path"] in files] == mine, name


def the_matrix(run_aligner, d: Path, *apply_args):
    assert_hook_sees_the_image(run_aligner, d)
    doc = assert_hints_are_edits(run_aligner, d)
    _, doc, md, _ = report(run_aligner, d)
    assert doc["applied"] is False and not any(e["applied"] for e in doc["edits"])
    assert_report_adds_up(doc, md, d)

    status, done, md, stderr = report(run_aligner, d, "--apply", *apply_args)
    assert done["applied"] is True
    assert_report_adds_up(done, md, d)
    left = done["summary"]["held_back"] or done["left_to_you"] or done["conflicts"]
    assert status == (1 if left else 0), stderr  # ruff's: 0 when everything it found was written
    assert (d / "lock" / "aligner.lock").exists() != bool(done["conflicts"]), "a lock with no aligned set"
    if not done["conflicts"]:
        assert_lock_reasons_true(d)
    before = snapshot(d)
    again = run_aligner("fix", "--apply", *apply_args, cwd=d)
    assert snapshot(d) == before, "a second fix --apply changed something"
    assert again.returncode == (1 if left else 0), again.stderr
    assert_hints_are_edits(run_aligner, d)  # after the write too: held-back pins keep their unsafe fix
    assert_hook_sees_the_image(run_aligner, d)
    return done


@pytest.mark.parametrize("name", SCENARIOS)
def test_one_story_in_each_scenario(tmp_path, run_aligner, name):
    d = scenario(name, tmp_path / "repo", run_aligner)
    if name == "partial apply":
        done = the_matrix(run_aligner, d, "--unsafe-fixes", "Dockerfile.a")
        assert {e["path"] for e in done["edits"]} == {"Dockerfile.a"}
        assert (d / "Dockerfile.b").read_text() != (d / "Dockerfile.a").read_text(), "fix touched the other image"
        rest = run_aligner("fix", "--apply", cwd=d)  # the other image follows on the next run
        assert rest.returncode == 0, rest.stderr
        assert (d / "Dockerfile.b").read_text() == (d / "Dockerfile.a").read_text()
        return
    if name == "cross-file python":  # the hook given the base file shows the findings in the engine file
        hooked = findings(run_aligner, d, "--extend-ignore", "AL012", "Dockerfile.base")
        requires = release("vllm", "0.11.0")["requires-python"]
        # torch 2.8.0 has wheels for some Pythons only (rules/snapshot), and none for the base's 3.14
        no_wheel = "cp314" not in release("torch", "2.8.0")["pythons"]
        assert [(f["code"], f["path"]) for f in hooked] == [("AL004", "Dockerfile.vllm")] * (1 + no_wheel), hooked
        assert requires in hooked[0]["message"] and all(f["fix"] is None for f in hooked)
    done = the_matrix(run_aligner, d, "--unsafe-fixes")
    if name == "upgrade past upstream":  # the upstream's own vllm decides, and fix goes there, not the other way
        (edit,) = [e for e in done["edits"] if e["component"] == "vllm"]
        assert (edit["before"], edit["after"], edit["unsafe"] is not None) == ("0.11.2", "0.11.0", True)
    if name == "upstream as a release":
        lock = tomllib.loads((d / "lock" / "aligner.lock").read_text())
        assert lock["image"][0]["pins"]["vllm"] == "0.11.0"
        assert lock["image"][0]["why"]["vllm"].startswith("upstream vllm==0.11.0 pins vllm==0.11.0")
    if name == "cuda moves with torch":  # one diff: the FROM tag and torch, nothing else; then check is clean
        torch = [r for r in release("vllm", "0.10.2")["requires-dist"] if r.startswith("torch==")]
        (want_torch,) = [Requirement(r).specifier for r in torch]
        cuda = smallest_move_at_least(added(gpu_compute("B200")), "devel", "ubuntu22.04")
        lines, was = (d / "Dockerfile").read_text().splitlines(), CUDA_MOVES.splitlines()
        assert lines[0] == f"FROM nvidia/cuda:{cuda}-devel-ubuntu22.04", lines
        assert lines[1:3] == was[1:3]
        assert re.fullmatch(r"RUN pip install torch==(\S+) vllm==0\.10\.2", lines[3])
        assert want_torch.contains(lines[3].split("torch==")[1].split()[0])
        assert {e["component"] for e in done["edits"]} == {"cuda", "torch"}
        assert findings(run_aligner, d) == []
    if name == "lock upgraded":  # fix brings the Dockerfile to the upgraded lock, never back to 0.10.2
        vllm = tomllib.loads((d / "lock" / "aligner.lock").read_text())["image"][0]["pins"]["vllm"]
        assert Version(vllm) > Version("0.10.2") and f"vllm=={vllm}" in (d / "Dockerfile").read_text()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_one_story_in_each_example(tmp_path, run_aligner, name):
    d = tmp_path / name
    shutil.copytree(EXAMPLES / name, d)
    the_matrix(run_aligner, d, "--unsafe-fixes")


def test_held_back_changes_leave_the_lock_the_target_and_check_says_so(tmp_path, run_aligner):
    """`fix --apply` without --unsafe-fixes in the held-back scenario: no Dockerfile changes, the lock holds
    the upstream's vllm, check reports the pin with the unsafe fix (not a stale lock), and says it once."""
    d = scenario("held-back unsafe", tmp_path / "repo", run_aligner)
    old = (d / "Dockerfile").read_bytes()
    result = run_aligner("fix", "--apply", cwd=d)
    assert result.returncode == 1 and "held back" in result.stderr and "nothing to change" not in result.stderr
    assert (d / "Dockerfile").read_bytes() == old
    up = re.search(r"vllm\[flashinfer\]==(\S+)\"", (d / "upstream" / "pyproject.toml").read_text()).group(1)
    lock = tomllib.loads((d / "lock" / "aligner.lock").read_text())
    assert lock["image"][0]["pins"]["vllm"] == up
    found = findings(run_aligner, d)
    assert "AL012" not in {f["code"] for f in found}
    (vllm,) = [f for f in found if f["fix"] and f["fix"]["replacement"] == f"v{up}"]
    assert vllm["fix"]["safe"] is False
    assert run_aligner("lock", "--check", cwd=d).returncode == 0


def test_an_upgraded_lock_is_kept_by_lock_and_followed_by_fix(tmp_path, run_aligner):
    d = scenario("lock upgraded", tmp_path / "repo", run_aligner)
    assert run_aligner("lock", "--check", cwd=d).returncode == 0, "lock --check after lock --upgrade-package"
    written = (d / "lock" / "aligner.lock").read_bytes()
    assert run_aligner("lock", cwd=d).returncode == 0
    assert (d / "lock" / "aligner.lock").read_bytes() == written, "lock again undid the upgrade"
    assert {f["code"] for f in findings(run_aligner, d)} >= {"AL015"}
    vllm = tomllib.loads(written.decode())["image"][0]["pins"]["vllm"]
    assert release("vllm", vllm)["requires-dist"] is not None
