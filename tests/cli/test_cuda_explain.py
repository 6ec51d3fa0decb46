"""`explain cuda` and `graph` show CUDA as a decision: the constraints on it from the target GPUs and the
arch list, each with its source, and the edge from the written pin that no longer holds. The repository is
the scenario of test_one_plan (CUDA_MOVES); the facts come from rules/ read with tomllib."""

import json

from tests.cli.test_one_plan import CUDA_MOVES
from tests.support.cuda_facts import added, gpu_compute


def repo(tmp_path):
    (tmp_path / "Dockerfile").write_text(CUDA_MOVES)
    (tmp_path / "aligner.toml").write_text('platforms = ["linux/amd64"]\n[images.serve]\ndockerfile = "Dockerfile"\n'
                                           'gpus = ["H100", "B200"]\n')
    return tmp_path


def test_explain_cuda_names_the_gpu_and_the_arch_that_move_it(tmp_path, run_aligner):
    out = run_aligner("explain", "cuda", cwd=repo(tmp_path))
    assert out.returncode == 0, out.stderr
    floor = added(gpu_compute("B200"))
    assert f"CUDA >= {floor} for compute capability {gpu_compute('B200')}" in out.stdout
    assert "from aligner.toml, image serve: gpus B200" in out.stdout
    assert f"CUDA >= {added('10.0')} to compile it" in out.stdout and "TORCH_CUDA_ARCH_LIST 10.0" in out.stdout
    assert out.stdout.splitlines()[1].strip().startswith("because the smallest move from the image's 12.4.1")


def test_graph_has_gpu_and_arch_edges_into_cuda(tmp_path, run_aligner):
    out = run_aligner("graph", "--format", "json", cwd=repo(tmp_path))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    kinds = {n["id"]: n["kind"] for n in doc["nodes"]}
    into = [e for e in doc["edges"] if e["target"] == "cuda"]
    assert {kinds[e["source"]] for e in into} >= {"gpu", "arch", "dockerfile"}
    (pin,) = [e for e in into if e["kind"] == "pin"]
    assert pin["spec"] == "from 12.4.1" and pin["ok"] is False  # the written CUDA no longer holds
    tree = run_aligner("graph", cwd=tmp_path).stdout
    assert "[[arch-added]]" in tree  # the source's own words, not eaten as markup
