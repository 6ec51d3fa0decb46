"""The wheel ships rules/ and aligner finds it from any working directory."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.network  # pip builds the wheel in an isolated environment: it fetches setuptools from the index
def test_wheel_ships_rules_and_loads_them_from_elsewhere(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("aligner-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert "aligner/rules/components.toml" in names
        for init in sorted(ROOT.glob("aligner/**/__init__.py")):  # every subpackage ships
            assert init.relative_to(ROOT).as_posix() in names
        zf.extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Dockerfile").write_text("FROM nvidia/cuda:12.8.1-devel-ubuntu24.04\n")
    code = ("import aligner.rules; from aligner.read.dockerfile import read_file; "
            "print(aligner.rules.__file__); print(read_file('Dockerfile').pins[0].version)")
    out = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r}); {code}"],
        cwd=elsewhere, capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    rules_file, version = out.stdout.split()
    assert Path(rules_file).is_relative_to(tmp_path / "site")
    assert version == "12.8.1"
