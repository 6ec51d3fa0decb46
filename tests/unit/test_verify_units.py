"""The parts of verify and bake that need no engine: build args, chaining, probes, comparison,
secrets, the bake file, and a repo's own components."""

import json
import os
import platform
import re
import stat
import subprocess
import sys
from pathlib import Path

import packaging
import pytest

from aligner.act.verify import builds, compare, plan
from aligner.know.components import builtin
from aligner.read.config import load
from aligner.base.errors import InputError
from aligner.know.snapshot import Snapshot
from tests.conftest import ROOT, aligner_cmd, aligner_env

CAT = builtin()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_build_args_keep_the_pins_own_spelling(tmp_path):
    path = write(tmp_path, "Dockerfile", 'ARG VLLM_REF="v0.11.0"\nARG TENSORRTLLM_PIP_WHEEL="tensorrt-llm"\n'
                                         "ARG NIXL_VERSION\nFROM python:3.12\nARG TORCH_VERSION=2.7.1\n"
                                         'RUN pip install "vllm==${VLLM_REF#v}" "${TENSORRTLLM_PIP_WHEEL}" '
                                         '"nixl==${NIXL_VERSION}" "torch==${TORCH_VERSION}"\n')
    args = plan.lock_args(path, {"vllm": "0.10.2", "tensorrt-llm": "1.1.0rc5", "torch": "2.8.0",
                                 "python": "3.12"}, CAT)
    assert args == {"VLLM_REF": "v0.10.2", "TENSORRTLLM_PIP_WHEEL": "tensorrt-llm==1.1.0rc5",
                    "TORCH_VERSION": "2.8.0"}


def test_a_chained_dockerfile_takes_its_base_from_its_from_args(tmp_path):
    one = write(tmp_path, "a", "ARG BASE_IMAGE=x\nFROM ${BASE_IMAGE}\n")
    two = write(tmp_path, "b", 'ARG BASE_IMAGE="base"\nARG BASE_IMAGE_TAG=1\nFROM ${BASE_IMAGE}:${BASE_IMAGE_TAG} AS b\n'
                               "FROM b AS c\n")
    lit = write(tmp_path, "c", "FROM dynamo-base:latest\n")
    assert plan.base_refs(one, CAT) == ("BASE_IMAGE", None, 2)
    assert plan.base_refs(two, CAT) == ("BASE_IMAGE", "BASE_IMAGE_TAG", 3)
    assert plan.base_refs(lit, CAT) == (None, None, 1)
    lock = {"image": [{"name": "img", "dockerfiles": ["a", "b"], "platforms": ["linux/amd64"], "pins": {}}]}
    t, = plan.targets(lock, tmp_path, CAT, {})
    assert t.steps[1].base_args == {"BASE_IMAGE": "aligner-verify/img-0", "BASE_IMAGE_TAG": "amd64"}
    lock["image"][0]["dockerfiles"] = ["a", "c"]
    with pytest.raises(InputError) as err:
        plan.targets(lock, tmp_path, CAT, {})
    assert str(err.value).startswith(f"{lit}:1: FROM names its image literally")


@pytest.mark.parametrize("value", ["0.10.2; curl x | sh", "$(id)", "`id`", "0.10.2\nRUN id", "0.10.2 ", "main"])
def test_a_lock_value_that_is_not_a_version_is_refused(tmp_path, value):
    write(tmp_path, "a", "FROM python:3.12\nARG VLLM_VERSION=0.10.2\n")
    lock = {"image": [{"name": "img", "dockerfiles": ["a"], "platforms": ["linux/amd64"], "pins": {"vllm": value}}]}
    with pytest.raises(InputError, match="is not a version"):
        plan.targets(lock, tmp_path, CAT, {}, lock_path="lock/aligner.lock")


def test_probes_run_without_network_and_values_travel_as_data():
    from aligner.act.verify.docker import Engine

    specs = [{"component": "vllm", "kind": "distribution", "names": ["vllm"]}]
    argv = Engine("docker", True, {}).probe_argv("aligner-verify/img:amd64", "print(1)", json.dumps(specs), None)
    assert argv[argv.index("--network") + 1] == "none" and "--rm" in argv
    assert argv[-3:] == ["-c", "print(1)", json.dumps(specs)]  # the script, then one argument of JSON


def run_probes(specs):
    out = subprocess.run([sys.executable, "-c", builds.probe_script(), json.dumps(specs)], capture_output=True,
                         text=True, env={"PATH": os.environ["PATH"]}, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_probe_script_answers_every_kind_in_one_run():
    found = run_probes([{"component": "packaging", "kind": "distribution", "names": ["no-such-dist", "packaging"]},
                        {"component": "gone", "kind": "distribution", "names": ["no-such-dist"]},
                        {"component": "python", "kind": "python"},
                        {"component": "py-cmd", "kind": "command", "argv": [sys.executable, "--version"]}])
    assert found["packaging"] == {"found": packaging.__version__, "how": "importlib.metadata packaging"}
    assert found["gone"]["found"] is None
    assert found["python"]["found"] == platform.python_version()
    assert found["py-cmd"]["found"] == platform.python_version()


def test_cuda_probe_order(tmp_path):
    env = {"PATH": str(tmp_path), "CUDA_VERSION": "12.8.1"}  # no nvcc on this PATH
    out = subprocess.run([sys.executable, "-c", builds.probe_script(), '[{"component": "cuda", "kind": "cuda"}]'],
                         capture_output=True, text=True, env=env, timeout=60)
    got = json.loads(out.stdout)["cuda"]
    if os.path.exists("/usr/local/cuda/version.json"):  # a CUDA host: the file wins
        assert got["how"] == "/usr/local/cuda/version.json"
    else:
        assert got == {"found": "12.8.1", "how": "CUDA_VERSION"}


def test_comparison_rules():
    assert compare.same("python", "3.12", "3.12.3") and not compare.same("python", "3.12", "3.11.2")
    assert compare.same("cuda", "12.8.1", "12.8")  # nvcc says major.minor only
    assert not compare.same("cuda", "12.8.1", "12.9.1")
    assert compare.same("torch", "2.8.0", "2.8.0+cu128") and not compare.same("torch", "2.8.0", "2.7.1+cu128")


def test_torch_built_for_a_newer_cuda_than_the_image_is_a_mismatch():
    """torch's CUDA from its own metadata (the runtime wheel it requires, in the snapshot)."""
    rel = Snapshot.load().release("torch", "2.8.0")
    runtime = [str(r) for r in rel.requirements() if r.name.startswith("nvidia-cuda-runtime")][0]
    made_for = re.search(r"==\s*(\d+\.\d+)", runtime)[1]
    probed = {"torch": {"found": "2.8.0", "how": "importlib.metadata torch", "cuda": runtime}}
    major, minor = map(int, made_for.split("."))
    older, newer = f"{major}.{minor - 1}.0", f"{major}.{minor + 1}.0"
    probes = [{"component": "torch"}]
    fit = {r.component: r for r in compare.rows({"torch": "2.8.0", "cuda": newer}, probed, probes)}["torch CUDA"]
    assert fit.ok is True and fit.found == made_for
    fit = {r.component: r for r in compare.rows({"torch": "2.8.0", "cuda": older}, probed, probes)}["torch CUDA"]
    assert fit.ok is False


def test_host_secrets_come_from_the_environment_or_pips_cert(tmp_path):
    ca = write(tmp_path, "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    assert builds.host_secrets({"SSL_CERT_FILE": ca, "HTTPS_PROXY": "http://proxy:3128"}) == {
        "ca": f"file:{ca}", "https_proxy": "value:http://proxy:3128"}
    assert builds.host_secrets({"SSL_CERT_FILE": str(tmp_path / "missing")}, pip_cert=ca) == {"ca": f"file:{ca}"}
    assert builds.host_secrets({}) == {}
    secrets = builds.Secrets({"https_proxy": "value:http://proxy:3128", "ca": f"file:{ca}"}, ["id=x,src=y"])
    proxy_file = secrets.args[-1].split("src=")[1]
    assert secrets.args == ["id=x,src=y", f"id=ca,src={ca}", f"id=https_proxy,src={proxy_file}"]
    assert stat.S_IMODE(os.stat(proxy_file).st_mode) == 0o600
    assert Path(proxy_file).read_text() == "http://proxy:3128"
    secrets.close()
    assert not Path(proxy_file).exists()


def test_bake_print_is_a_valid_bake_file_for_this_repos_images():
    """Checked against the bake file reference (docs.docker.com/build/bake/reference/): a group of
    targets; each target a context, a Dockerfile, platforms, string args and tags; named contexts
    that point at other targets. Each arg is an ARG its Dockerfile declares."""
    out = subprocess.run([*aligner_cmd(), "bake", "--print"], cwd=ROOT, capture_output=True, text=True,
                         env=aligner_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    bake = json.loads(out.stdout)
    assert set(bake) == {"group", "target"}
    targets = bake["target"]
    lock = (ROOT / "lock" / "aligner.lock").read_text()
    images = re.findall(r'^name = "([^"]+)"$', lock, re.M)
    assert sorted(bake["group"]["default"]["targets"]) == sorted(
        f"{i}-{p}" for i in images for p in ("amd64", "arm64"))
    allowed = {"context", "dockerfile", "platforms", "args", "tags", "contexts", "secret"}
    for name, t in targets.items():
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", name)
        assert set(t) <= allowed
        assert (ROOT / t["context"]).is_dir() and (ROOT / t["dockerfile"]).is_file()
        assert len(t["platforms"]) == 1 and t["platforms"][0] in ("linux/amd64", "linux/arm64")
        declared = set(re.findall(r"^ARG (\w+)", (ROOT / t["dockerfile"]).read_text(), re.M))
        assert all(isinstance(v, str) for v in t["args"].values()) and set(t["args"]) <= declared
        for ref, src in t.get("contexts", {}).items():
            assert src.startswith("target:") and src[len("target:"):] in targets
            assert ref in t["args"].values()  # the FROM line's ARG names the context
    vllm = re.search(r'^vllm = "([^"]+)"$', lock, re.M)[1]
    assert targets["dynamo-vllm-amd64"]["args"]["VLLM_REF"].lstrip("v") == vllm


def test_a_repos_own_components_are_checked(tmp_path):
    cases = {
        '[components.torch]\npip = ["torch"]\n': "is a built-in component",
        '[components.x]\nprobe = { kind = "distribution", name = "x" }\n': "needs `pip` or `arg-aliases`",
        '[components.x]\npip = ["x"]\nprobe = { kind = "shell" }\n': "probe.kind` must be one of",
        '[components.x]\npip = ["x"]\nprobe = { kind = "command", argv = "x --version" }\n': "argv` must be",
        '[components.x]\narg-aliases = ["BAD NAME"]\n': "is not an ARG name",
        '[components.x]\npip = ["x"]\ncolour = "red"\n': "unknown key `components.x.colour`",
    }
    for text, message in cases.items():
        path = tmp_path / "aligner.toml"
        path.write_text(text)
        with pytest.raises(InputError, match=re.escape(message)):
            load(path)
    path.write_text('[components.my-kernels]\npip = ["my-kernels"]\narg-aliases = ["MY_KERNELS"]\n')
    cat = load(path).catalog()
    assert cat.by_variable("MY_KERNELS_VERSION").component == "my-kernels"
    assert cat.components["my-kernels"].probe_dict == {"kind": "distribution", "name": "my-kernels"}
    assert cat.components["my-kernels"].versions == "pinned"
