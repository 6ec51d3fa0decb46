"""[tool.aligner] and aligner.toml: defaults, discovery, and errors naming the key."""

import pytest

from aligner.read import config
from aligner.base.errors import InputError


def write(tmp_path, text, name="aligner.toml"):
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_and_images(tmp_path):
    cfg = config.load(write(tmp_path, '[images.app]\ndockerfile = "Dockerfile"\n'))
    assert cfg.lock_path() == tmp_path / "lock" / "aligner.lock"
    assert cfg.images["app"].platforms == config.DEFAULT_PLATFORMS
    assert cfg.images["app"].dockerfiles == ("Dockerfile",)


def test_pyproject_tool_table_is_found_from_a_subdirectory(tmp_path):
    write(tmp_path, '[project]\nname = "x"\n[tool.aligner]\nplatforms = ["linux/arm64"]\n', "pyproject.toml")
    (tmp_path / "sub").mkdir()
    assert config.find(tmp_path / "sub") == tmp_path / "pyproject.toml"
    assert config.load(config.find(tmp_path / "sub")).platforms == ("linux/arm64",)


@pytest.mark.parametrize("text,message", [
    ("upstrem = 'x'\n", "unknown key `upstrem`"),
    ("platforms = 'linux/amd64'\n", "`platforms` must be a list"),
    ("platforms = ['linux/riscv64']\n", "unknown platform 'linux/riscv64'"),
    ("[images.app]\ndockerfile = 'Dockerfile'\ngpu = ['H100']\n", "unknown key `images.app.gpu`"),
    ("[images.app]\ndockerfile = 'nope/Dockerfile'\n", "no such Dockerfile 'nope/Dockerfile'"),
    ("[images.app]\nextra = 'vllm'\n", "needs `dockerfile` or `dockerfiles`"),
    ("lock = [\n", "invalid TOML"),
])
def test_errors_name_the_key(tmp_path, text, message):
    p = write(tmp_path, text)
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")) as err:
        config.load(p)
    assert err.value.path == str(p)


def test_pyproject_prefix_in_messages(tmp_path):
    p = write(tmp_path, "[tool.aligner]\nbogus = 1\n", "pyproject.toml")
    with pytest.raises(InputError, match="unknown key `tool.aligner.bogus`"):
        config.load(p)


@pytest.mark.parametrize("text,message", [
    ("[images.app]\ndockerfile = 'Dockerfile'\ngpus = ['H1000']\n", "unknown GPU 'H1000'"),
    ("[images.app]\ndockerfile = 'Dockerfile'\ndriver = 'r570'\n", "must be a driver version"),
    ("ignore = ['AL999']\n", "unknown rule code 'AL999'"),
    ("[severity]\nXX1 = 'warning'\n", "unknown rule code 'XX1'"),
])
def test_values_that_would_silently_disable_a_rule_are_errors(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        config.load(write(tmp_path, text))
