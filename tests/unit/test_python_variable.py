"""The image's Python is a decision of the lock where the image can have another one: it moves to meet the
Requires-Python and the wheels of the releases it pins, by the smallest move.

Expected versions come from rules/python.toml, rules/os.toml (read with tomllib) and the snapshot's release
metadata, never from aligner's output. The Dockerfiles take the shapes of real ones: vLLM's
docker/Dockerfile (`ARG PYTHON_VERSION`, Python from the deadsnakes PPA), Dynamo's (`uv venv --python
${PYTHON_VERSION}`), and community CUDA images that `apt-get install python3-pip`.
"""

from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.decide import fix, lock
from aligner.read import config
from aligner.relate.workspace import Workspace
from tests.support.cuda_facts import RULES, SNAP
from tests.support.example_facts import tomllib

DEADSNAKES = ("FROM nvidia/cuda:12.8.1-devel-ubuntu22.04\nARG PYTHON_VERSION={python}\n"
              "RUN add-apt-repository -y ppa:deadsnakes/ppa && apt-get install -y python${{PYTHON_VERSION}}\n"
              "RUN uv pip install --system {pins}\n")
UV_VENV = ("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\nARG PYTHON_VERSION={python}\n"
           "RUN uv venv --python ${{PYTHON_VERSION}} /opt/venv\nRUN uv pip install {pins}\n")


def minors() -> list:
    return [r["minor"] for r in tomllib.loads((RULES / "python.toml").read_text())["cpython"]]


def nearest(own: str, ok) -> str:
    """The README's preference: the fewest minors away, up before down."""
    n = lambda v: int(v.split(".")[1])
    return min((v for v in minors() if ok(v)), key=lambda v: (abs(n(v) - n(own)), n(v) < n(own)))


def has_wheel(rel, python: str) -> bool:
    tag = "cp" + python.replace(".", "")
    return tag in rel.pythons or any(t.startswith("py3") for t in rel.pythons)


def repo(d: Path, dockerfile: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "Dockerfile").write_text(dockerfile)
    (d / "aligner.toml").write_text('platforms = ["linux/amd64"]\n[images.serve]\ndockerfile = "Dockerfile"\n')
    return d


def locked(d: Path):
    cfg = config.load(d / "aligner.toml")
    ws, cat = Workspace(cfg), cfg.catalog()
    return ws, cat, lock.compute(ws, cat, SNAP)


def test_requires_python_moves_python_not_the_pinned_engine(tmp_path):
    # the first vLLM release (in the snapshot) whose Requires-Python leaves out 3.9
    vllm = next(r for r in SNAP.releases("vllm") if r.requires_python and not Version(r.version).is_prerelease
                and not SpecifierSet(r.requires_python).contains("3.9"))
    d = repo(tmp_path, DEADSNAKES.format(python="3.9", pins=f"vllm=={vllm.version}"))
    ws, cat, out = locked(d)
    (li,) = out.locked
    python = li.result.choices["python"].version
    assert python == nearest("3.9", lambda v: SpecifierSet(vllm.requires_python).contains(v))
    assert li.result.choices["vllm"].version == vllm.version  # the pin stays; Python moves
    for comp, choice in li.result.choices.items():  # every locked release takes that Python
        c = cat.components[comp]
        rel = SNAP.release(c.index[0], choice.version) if c.index else None
        if rel and rel.requires_python:
            assert SpecifierSet(rel.requires_python).contains(python), (comp, rel.requires_python)
    assert li.why["python"].startswith("the smallest move from the image's 3.9 (Dockerfile:2)")
    plan = fix.plan(ws, out, cat, unsafe=False, lock_note=None)
    (fp,) = plan.changed()
    assert fp.new.decode().splitlines()[1] == f"ARG PYTHON_VERSION={python}"  # a safe move within Python 3


def test_wheel_tags_move_python(tmp_path):
    # a torch release whose Requires-Python takes 3.14 but which has no wheel for it, and no sdist
    torch = next(r for r in reversed(SNAP.releases("torch")) if not Version(r.version).is_prerelease
                 and r.pythons and not r.sdist and SpecifierSet(r.requires_python or "").contains("3.14")
                 and not has_wheel(r, "3.14"))
    d = repo(tmp_path, UV_VENV.format(python="3.14", pins=f"torch=={torch.version}"))
    _, _, out = locked(d)
    (li,) = out.locked
    assert li.result.choices["python"].version == nearest("3.14", lambda v: has_wheel(torch, v))
    assert f"torch {torch.version} (Dockerfile:4) has wheels only for" in li.why["python"]


def test_check_says_which_wheels_a_release_has(tmp_path, run_aligner):
    torch = next(r for r in reversed(SNAP.releases("torch")) if not Version(r.version).is_prerelease
                 and r.pythons and not r.sdist and not has_wheel(r, "3.14"))
    d = repo(tmp_path, UV_VENV.format(python="3.14", pins=f"torch=={torch.version}"))
    import json

    found = json.loads(run_aligner("check", "--no-cache", "--format", "json", cwd=d).stdout)["findings"]
    (al004,) = [f for f in found if f["code"] == "AL004"]
    assert al004["line"] == 4 and "has wheels only for" in al004["message"] and "3.14" in al004["message"]


def test_a_python_only_an_arg_names_stays_without_an_installer_of_every_minor(tmp_path):
    # `apt-get install python3.9` with no PPA: which other pythonX.Y the distribution has is not known here
    text = DEADSNAKES.replace("add-apt-repository -y ppa:deadsnakes/ppa && ", "")
    vllm = next(r for r in SNAP.releases("vllm") if r.requires_python and not Version(r.version).is_prerelease
                and not SpecifierSet(r.requires_python).contains("3.9"))
    _, _, out = locked(repo(tmp_path, text.format(python="3.9", pins=f"vllm=={vllm.version}")))
    chosen = out.locked[0].result.choices if out.locked else None
    assert chosen is None or chosen["python"].version == "3.9"


def test_the_distributions_python3_is_the_images(tmp_path):
    text = ("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends python3-pip git\n"
            "RUN pip install --break-system-packages torch\n")
    _, _, out = locked(repo(tmp_path, text))
    noble = next(r for r in tomllib.loads((RULES / "os.toml").read_text())["python"]
                 if (r["os"], r["version"]) == ("ubuntu", "24.04"))
    (li,) = out.locked
    assert li.result.choices["python"].version == noble["python"]
    assert "python3 of Ubuntu 24.04" in li.why["python"]


def test_a_python_of_its_own_is_not_the_distributions(tmp_path):
    text = ("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\n"
            "RUN apt-get update && apt-get install -y python3-pip && pip install uv && uv python install 3.11\n"
            "RUN uv pip install --system torch\n")
    _, _, out = locked(repo(tmp_path, text))
    assert "python" not in out.locked[0].result.choices
