"""Recognise versions in expanded words: pip requirements, git refs, image references.

Each recogniser returns `Found` records: which component, and which character
range of a traced word holds its version. The reader maps them to file bytes.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Iterator, List, Optional, Tuple

from aligner.know.components import Catalog
from aligner.read.dockerfile.traced import Traced


@dataclass(frozen=True)
class Found:
    component: str
    kind: str
    name: str
    word: Traced
    i: int
    j: int
    op: Optional[str] = None
    extras: Tuple[str, ...] = ()
    anchor: bool = False  # a place to report, not bytes to rewrite (a clone with no ref has none)
    local: bool = False  # installed from the image's own files (--find-links, --no-index)


@dataclass
class Clones:
    """The git clones of a stage: the repository a `git checkout` acts on, the clones of the RUN being
    read that had no ref when cloned, and the repositories a checkout then gave a ref."""

    current: Optional[Tuple[str, str]] = None  # (component, OWNER/REPO) of the last clone
    unpinned: List[Found] = field(default_factory=list)
    checked_out: List[str] = field(default_factory=list)


_REQ = re.compile(
    r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?P<extras>\[[^\]]*\])?(?P<spec>[^;]*)"
)
_CLAUSE = re.compile(r"\s*(===|==|~=|!=|<=|>=|<|>)\s*(\S*?)\s*$")
_URL_REQ = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@\s*")
_GIT_URL = re.compile(r"(?:git\+)?(?:[a-z]+://|git@)[^/:]+[/:](?P<repo>[^/@#\s]+/[^/@#\s]+?)(?:\.git)?(?:@(?P<ref>[^#\s]*))?(?:#.*)?$")
# a wheel's file name: NAME-VERSION(-BUILD)?-PY-ABI-PLATFORM.whl (PEP 427), or a glob of one
_WHEEL = re.compile(r"(?:^|/)(?P<name>[A-Za-z0-9_.]+)-(?P<version>[^-/*]+?)(?:[-*][^/]*)?\.whl$")
_PIP_PROG = re.compile(r"pip(\d+(\.\d+)?)?")
_PY_PROG = re.compile(r"python(\d+(\.\d+)?)?")
_ASSIGN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
WRAPPERS = frozenset({"sudo", "env", "time", "nice", "exec", "command", "nohup"})

PIP_OPTS_WITH_ARG = frozenset(
    """-i --index-url --extra-index-url -f --find-links -c --constraint -r --requirement
    -e --editable -t --target --prefix --root --python-version --platform --implementation
    --abi --only-binary --no-binary --progress-bar --cache-dir --src --upgrade-strategy
    --trusted-host --python -p --index-strategy --torch-backend --index --default-index
    --overrides --override --prerelease --config-settings --config-setting -C --global-option
    --log --timeout --retries --proxy --cert --client-cert --exists-action --keyring-provider
    --report --root-user-action --resolution --link-mode --exclude-newer --build-constraint
    -b --python-platform --group --extra""".split()
)
GIT_CLONE_OPTS_WITH_ARG = frozenset(
    """--depth --origin -o --config -c --jobs -j --reference --separate-git-dir --template
    --upload-pack -u --shallow-since --shallow-exclude --filter""".split()
)


def command_finds(cat: Catalog, words: List[Traced], clone: "Clones") -> Iterator[Found]:
    """Versions in one simple shell command. `clone` carries the RUN's git clones."""
    texts = [w.text for w in words]
    k = _program_at(texts)
    if k is not None and posixpath.basename(texts[k]) == "git":
        yield from _git(cat, words, texts, k + 1, clone)
        return
    args = install_args(words)
    if args is None:
        return
    options = [w.text for w in args if w.text.startswith("-")]
    # the image's own wheels: `--no-index`, `--find-links DIR` (a bare name there is the one built here)
    local = any(o in ("--no-index", "-f", "--find-links") or o.startswith("--find-links=") for o in options)
    indexed = _index_version(args)
    for word in requirement_words(args):
        for found in requirement_finds(cat, word, "pip"):
            if indexed and found.i == found.j and not found.op:
                # `uv pip install vllm --extra-index-url …/wheels/0.13.0/cu130`: the index serves one release
                url, i, j = indexed
                found = replace(found, word=url, i=i, j=j, op="==")
            yield replace(found, local=True) if local else found


def _program_at(texts: List[str]) -> Optional[int]:
    """Where the program of a simple command is, past assignments and wrappers (`sudo`, `env`)."""
    k = 0
    while k < len(texts) and (_ASSIGN.match(texts[k]) or texts[k] in WRAPPERS):
        k += 1
    return k if k < len(texts) else None


def install_args(words: List[Traced]) -> Optional[List[Traced]]:
    """The words after `install` of a pip or `uv pip` install command; None for any other command."""
    texts = [w.text for w in words]
    k = _program_at(texts)
    if k is None:
        return None
    prog = posixpath.basename(texts[k])
    if _PIP_PROG.fullmatch(prog):
        sub = k + 1
    elif _PY_PROG.fullmatch(prog) and texts[k + 1:k + 2] == ["-m"] and k + 2 < len(texts) and _PIP_PROG.fullmatch(texts[k + 2]):
        sub = k + 3
    elif prog == "uv" and texts[k + 1:k + 2] == ["pip"]:
        sub = k + 2
    else:
        return None
    while sub < len(texts) and texts[sub].startswith("-"):
        sub += 1
    if sub >= len(texts) or texts[sub] != "install":
        return None
    return words[sub + 1:]


def requirement_words(args: List[Traced]) -> Iterator[Traced]:
    """The requirements among an install's arguments: not its options, nor the values they take."""
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word.text.startswith("-"):
            skip = "=" not in word.text and word.text in PIP_OPTS_WITH_ARG
        else:
            yield word


_REQ_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def variant_names(cat: Catalog, words: List[Traced]) -> Iterator[Tuple[str, Traced, int, int]]:
    """(name, word, start, end of the CUDA digits) of each requirement of an install that names a build for one
    CUDA major (`cupy-cuda12x`, `ucx-py-cu12`) and is no component aligner pins (those are pins already)."""
    from aligner.know.versions import variant_major

    args = install_args(words)
    for word in requirement_words(args or []):
        m = _REQ_NAME.match(word.text)
        found = variant_major(m.group(0)) if m else None
        if found and cat.by_pip(m.group(0)) is None:
            yield m.group(0), word, found[1], found[2]


_INDEX_RELEASE = re.compile(r"/v?(\d+\.\d+(?:\.\d+)*(?:(?:rc|\.post|\.dev)\d+)?)(?=/)")


_INDEX_OPTS = ("--index-url", "-i", "--extra-index-url", "--index", "--default-index")
BACKEND_OPTS = _INDEX_OPTS + ("--torch-backend",)


def option_values(words: List[Traced], names) -> List[Tuple[Traced, int]]:
    """(word, offset) of each value of the named options: `--opt=VALUE` (the value after `=`) or `--opt VALUE`."""
    out = []
    for k, word in enumerate(words):
        name, eq, _ = word.text.partition("=")
        if name in names:
            if eq:
                out.append((word, len(name) + 1))
            elif k + 1 < len(words):
                out.append((words[k + 1], 0))
    return out


def _index_version(words: List[Traced]):
    """(word, i, j) of the release in the one index URL whose path names one (`…/wheels/0.13.0/cu130`)."""
    found = []
    for url, offset in option_values(words, _INDEX_OPTS):
        m = _INDEX_RELEASE.search(url.text + "/", offset)
        if m and m.end(1) <= len(url.text):
            found.append((url, m.start(1), m.end(1)))
    return found[0] if len(found) == 1 else None


CU_TAG = re.compile(r"(?:^|[/=+_-])cu(\d\d)(\d)(?=$|[/\s,_-])")
# environment variables pip and uv read their index or torch backend from
INDEX_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX",
                   "UV_DEFAULT_INDEX", "UV_TORCH_BACKEND")


def cuda_of_index(values: List[str]) -> Optional[str]:
    """The CUDA an install names through its index or backend (`…/whl/cu128`, `--torch-backend=cu130`):
    "12.8"; "cpu" for a CPU index or backend; None when nothing says."""
    for value in values:
        m = CU_TAG.search(value)
        if m:
            return f"{int(m.group(1))}.{m.group(2)}"
        if re.search(r"(?:^|/)cpu(?:$|/)", value):
            return "cpu"
    return None


def index_values(words: List[Traced]) -> List[str]:
    """The values of a pip/uv command's index and backend options."""
    return [word.text[offset:] for word, offset in option_values(words, BACKEND_OPTS)]


def requirement_finds(cat: Catalog, word: Traced, kind: str) -> Iterator[Found]:
    """The version in one pip requirement (`vllm[flashinfer]==0.10.2`, a git URL, ...)."""
    text = _masked(word)
    url = _URL_REQ.match(text)
    target = text[url.end():] if url else text
    wheel = _WHEEL.search(text)
    if wheel:  # `…/flashinfer_python-0.2.6+cu128torch2.7-cp39-abi3-linux_x86_64.whl`, `dist/vllm-${V}*.whl`
        component = cat.by_pip(wheel.group("name"))
        if component:
            yield Found(component, kind, wheel.group("name"), word, wheel.start("version"), wheel.end("version"), "==")
        return
    if target.startswith("git+") or "://" in target:
        yield from _git_url(cat, word, len(text) - len(target))
        return
    if "/" in text or text.startswith(".") or text.endswith((".whl", ".tar.gz", ".zip")):
        return
    m = _REQ.match(text)
    component = cat.by_pip(m.group("name")) if m else None
    if not component:
        return
    extras = tuple(e.strip() for e in (m.group("extras") or "[]")[1:-1].split(",") if e.strip())
    spec = m.group("spec")
    base = m.start("spec")
    if not spec.strip():
        at = m.end("extras") if m.group("extras") else m.end("name")
        yield Found(component, kind, m.group("name"), word, at, at, "", extras)
        return
    clauses = spec.split(",")
    one = _CLAUSE.match(clauses[0]) if len(clauses) == 1 else None
    if one:
        yield Found(component, kind, m.group("name"), word, base + one.start(2), base + one.end(2), one.group(1), extras)
    else:
        lead = len(spec) - len(spec.lstrip())
        yield Found(component, kind, m.group("name"), word, base + lead, base + len(spec.rstrip()), "", extras)


def _masked(word: Traced) -> str:
    """The word's text with what the shell computes at build time (`$(cat f)`) blanked to one version-like
    run of the same length, so that its spaces and `;` do not read as a requirement's structure."""
    return "".join("0" * len(p.text) if p.unknown else p.text for p in word.pieces)


def _git_url(cat: Catalog, word: Traced, offset: int) -> Iterator[Found]:
    m = _GIT_URL.match(word.text, offset)
    if not m or m.group("ref") is None:
        return
    component = cat.by_repo(m.group("repo"))
    if component:
        yield Found(component, "git", _repo_name(m.group("repo")), word, m.start("ref"), m.end("ref"))


def _repo_name(repo: str) -> str:
    return repo[:-4] if repo.endswith(".git") else repo


def _git(cat: Catalog, words, texts, k, clone) -> Iterator[Found]:
    while k < len(texts) and texts[k].startswith("-"):
        k += 2 if texts[k] in ("-C", "-c") else 1
    if k >= len(texts):
        return
    sub, args = texts[k], list(range(k + 1, len(texts)))
    if sub == "clone":
        branch, positional, skip = None, [], False
        for a in args:
            t = texts[a]
            if skip:
                skip = False
            elif t in ("--branch", "-b"):
                branch = (a + 1, 0) if a + 1 < len(texts) else None
                skip = True
            elif t.startswith("--branch="):
                branch = (a, len("--branch="))
            elif t.startswith("-"):
                skip = "=" not in t and t in GIT_CLONE_OPTS_WITH_ARG
            else:
                positional.append(a)
        if not positional:
            return
        m = _GIT_URL.match(texts[positional[0]])
        component = cat.by_repo(m.group("repo")) if m else None
        clone.current = (component, _repo_name(m.group("repo"))) if component else None
        if component and branch:
            w, at = branch
            yield Found(component, "git", _repo_name(m.group("repo")), words[w], at, len(texts[w]))
        elif component:
            # no ref yet: unless a `git checkout` follows, the clone builds the default branch's head
            url = words[positional[0]]
            clone.unpinned.append(Found(component, "git", _repo_name(m.group("repo")), url, len(url), len(url),
                                        anchor=True))
    elif sub == "checkout" and clone.current:
        skip = False
        for a in args:
            t = texts[a]
            if skip:
                skip = False
            elif t in ("-b", "-B", "--orphan"):
                skip = True
            elif t == "--":
                return
            elif not t.startswith("-"):
                component, repo = clone.current
                clone.checked_out.append(repo)  # the ref is chosen here: the reader unpins the bare clone
                yield Found(component, "git", repo, words[a], 0, len(t))
                return


def image_path(ref: str) -> Tuple[str, str, Optional[int]]:
    """(repository path, repository as written, where the tag starts or None) of an image reference:
    `host:5000/library/python:3.12@sha256:…` -> (`python`, `host:5000/library/python`, 26). The path has
    no registry host (a first part holding `.` or `:`, or `localhost`) and no `library/`."""
    at = ref.find("@")
    name_tag = ref if at < 0 else ref[:at]
    colon, slash = name_tag.rfind(":"), name_tag.rfind("/")
    repo, tag_at = (name_tag[:colon], colon + 1) if colon > slash else (name_tag, None)
    parts = repo.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[0] == "library" and len(parts) > 1:
        parts = parts[1:]
    return "/".join(parts), repo, tag_at


def image_finds(cat: Catalog, word: Traced) -> Iterator[Found]:
    """Versions in an image reference such as `nvidia/cuda:12.8.1-devel-ubuntu24.04`."""
    ref = word.text
    at = ref.find("@")
    name_tag = ref if at < 0 else ref[:at]
    path, repo, tag_at = image_path(ref)
    image = cat.by_image(path)
    if not image:
        return
    if tag_at is None:
        if at < 0:
            yield Found(image.components[0], "from", path, word, len(repo), len(repo))
        return
    tag = name_tag[tag_at:]
    m = image.tag.match(tag)
    if not m:
        yield Found(image.components[0], "from", path, word, tag_at, len(name_tag))
        return
    for group, component in enumerate(image.components, 1):
        if m.group(group) is not None:
            yield Found(component, "from", path, word, tag_at + m.start(group), tag_at + m.end(group))


_OS_INSTALLERS = frozenset({"apt-get", "apt", "dnf", "yum", "microdnf", "apk"})
_OS_PYTHON = re.compile(r"python3(?:-(?:pip|dev|venv|full|setuptools|devel))?|python-is-python3")
# an installer that has every CPython minor: the image's Python can move to any of them
_ANY_PYTHON = re.compile(r"deadsnakes|conda|mamba|pyenv|uv python install|uv venv")
# another way to have a Python: the image's Python is then not the distribution's own
_OTHER_PYTHON = re.compile(_ANY_PYTHON.pattern + r"|uv python|--python[= ]\d|get-pip.py|python3\.\d+")


def any_python(words: List[Traced]) -> bool:
    """Whether a command installs Python by a route that has every CPython minor (the deadsnakes PPA, uv,
    conda, pyenv), so that a Python version an ARG names can be another one."""
    return bool(_ANY_PYTHON.search(" ".join(w.text for w in words)))


def os_python(words: List[Traced]) -> Optional[bool]:
    """True for a command that installs the distribution's own python3 (`apt-get install -y python3-pip`),
    False for one that brings a Python of its own (deadsnakes, conda, `uv python install`, `python3.12`),
    None for any other."""
    texts = [w.text for w in words]
    k = 0
    while k < len(texts) and (_ASSIGN.match(texts[k]) or texts[k] in WRAPPERS):
        k += 1
    line = " ".join(texts[k:])
    if _OTHER_PYTHON.search(line):
        return False
    if k < len(texts) and posixpath.basename(texts[k]) in _OS_INSTALLERS and "install" in texts[k + 1:] \
            or (texts[k:k + 1] == ["apk"] and "add" in texts[k + 1:]):
        names = [t.split("=")[0].split(":")[0] for t in texts[k + 1:] if not t.startswith("-")]
        if any(_OS_PYTHON.fullmatch(n) for n in names):
            return True
    return None

