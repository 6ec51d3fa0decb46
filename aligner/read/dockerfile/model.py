"""What the reader yields: pins, stages and variables of one Dockerfile."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import List, Literal, Optional, Set, Tuple, get_args

from aligner.base.span import Span

Kind = Literal["arg", "env", "from", "pip", "git"]
KINDS = get_args(Kind)
# dynamic: computed while the image builds (`$(cat f)`); unset: a variable with no value in the file;
# local: no version, installed from the image's own wheels (--find-links, --no-index);
# constrained: no version here, a constraints file (-c, PIP_CONSTRAINT, UV_CONSTRAINT) decides it
Form = Literal["version", "range", "commit", "moving", "empty", "dynamic", "unset", "local", "constrained"]
FORMS = get_args(Form)


@dataclass(frozen=True)
class Pin:
    """One version of a known component, as written in a Dockerfile."""

    path: str
    component: str
    kind: Kind
    name: str  # variable, image repository, distribution or git repository
    value: str  # the bytes at [start, end) as written
    version: Optional[str]  # normal form, None for commits, branches, empty
    form: Form
    line: int  # 1-based line of the value
    column: int  # 1-based character column of the value
    start: Optional[int]  # byte offsets of the value; None when no one span holds it
    end: Optional[int]
    stage: Optional[str]  # None: global scope, before the first FROM
    op: Optional[str] = None  # pip specifier operator ("" when none); None for other kinds
    extras: Tuple[str, ...] = ()
    via: Optional[str] = None  # variable the value was reached through
    use_line: int = 0  # line of the instruction that uses the value
    visible: bool = True  # False: reached through a global ARG the stage did not redeclare
    cuda: Optional[str] = None  # pip: the CUDA its index or torch backend names ("12.8", "cpu")
    platforms: Tuple[str, ...] = ()  # the only platforms whose build runs the command (a TARGETARCH branch); () all
    conditional: bool = False  # pip: the command runs only when a shell test holds (`if [ "$CUDA_MAJOR" = 13 ]`)
    cuda_at: Optional[Tuple[str, int, int]] = None  # pip: (path, start, end) of the XYZ of its cuXYZ index

    @property
    def span(self) -> Span:
        return Span(self.path, self.line, self.column, self.start, self.end)

    def to_json(self) -> dict:
        out = asdict(self)
        out["extras"] = list(self.extras)
        out["platforms"] = list(self.platforms)
        out.pop("cuda_at")  # where fix rewrites the index: not part of the documented pin
        return out


@dataclass(frozen=True)
class Stage:
    index: int
    name: Optional[str]
    image: str  # after substitution of global ARGs
    line: int
    parent: Optional[int] = None  # index of the earlier stage it is built FROM
    written: str = ""  # the image as written, before substitution (`${BASE_IMAGE}`)

    @property
    def label(self) -> str:
        return self.name if self.name else str(self.index)


@dataclass(frozen=True)
class Variable:
    """An ARG or ENV declaration, for rules that read values that are not pins."""

    kind: Literal["arg", "env"]
    name: str
    value: Optional[str]  # after substitution; None for `ARG NAME` without default
    line: int
    stage: Optional[str]
    value_line: int = 0  # line of the value's first byte: an ARG's, when `ENV X=${X}` copies it
    unknown: bool = False  # the value holds what the build computes or a variable with no value
    span: Optional[Span] = None  # where the value's bytes are, when one run of the file holds them


@dataclass(frozen=True)
class HiddenUse:
    """A use of a global ARG in a stage that did not redeclare it (Docker gives "")."""

    name: str
    line: int
    stage: str
    declared_line: int


@dataclass(frozen=True)
class Variant:
    """A requirement built for one CUDA major (`cupy-cuda12x`) that is no component aligner pins."""

    name: str
    major: int
    path: str
    line: int
    column: int
    start: Optional[int]  # byte offsets of the major's digits in the name; None when no one span holds them
    end: Optional[int]
    conditional: bool = False  # its command runs only when a shell test holds


@dataclass
class Dockerfile:
    path: str
    pins: List[Pin] = field(default_factory=list)
    stages: List[Stage] = field(default_factory=list)
    variables: List[Variable] = field(default_factory=list)
    hidden_uses: List[HiddenUse] = field(default_factory=list)
    platforms: Set[str] = field(default_factory=set)  # platforms the file's branches or FROM --platform name
    existing_torch: bool = False  # runs vLLM's use_existing_torch.py: a source build drops its torch pins
    # (line, stage) of each command that installs the distribution's python3; `other_python` where a command
    # brings a Python of its own (deadsnakes, conda, `uv python install`)
    os_python: List[Tuple[int, Optional[str]]] = field(default_factory=list)
    other_python: bool = False
    any_python: bool = False  # a command installs Python by a route with every minor (deadsnakes, uv, conda)
    variants: List[Variant] = field(default_factory=list)
    unread: List[Tuple[int, str]] = field(default_factory=list)  # (line, why) of RUN scripts left unread
