"""Read a Dockerfile into pins, following ARG/ENV scopes and stages as Docker does."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import unquote

from aligner.know import facts
from aligner.know.components import Catalog, catalog
from aligner.read.dockerfile.branches import platform_of
from aligner.read.dockerfile.commands import (INDEX_VARIABLES, Clones, Found, command_finds, cuda_of_index, image_finds, any_python, os_python, option_values, variant_names, BACKEND_OPTS, CU_TAG,
                                         image_path, index_values, requirement_finds)
from aligner.read.dockerfile.lexer import MAX_BYTES, Instruction, Source, lex
from aligner.read.dockerfile.model import Dockerfile, HiddenUse, Pin, Stage, Variable, Variant
from aligner.read.dockerfile.traced import Piece, Traced
from aligner.read.dockerfile.words import WordError, expand_word, shell_program, split_raw
from aligner.base.errors import InputError
from aligner.base.span import Span
from aligner.know.versions import form, normalise

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RENOVATE = re.compile(r"#\s*renovate:.*?\bdepName=(\S+)")
_JSON_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash"})
_CONSTRAINT_OPTIONS = frozenset({"-c", "--constraint", "--constraints", "--override", "--overrides"})
_CONSTRAINT_VARIABLES = ("PIP_CONSTRAINT", "UV_CONSTRAINT", "UV_OVERRIDE")


@dataclass
class _Binding:
    value: Optional[Traced]
    line: int


def read(path: str, data: bytes, cat: Optional[Catalog] = None, build_args: Optional[Dict[str, Traced]] = None,
         sources: Optional[Dict[str, Source]] = None) -> Dockerfile:
    """Parse Dockerfile bytes; raises InputError naming the file and line. `build_args` are the values a build
    passes (`--build-arg NAME=VALUE`): as Docker does, each overrides the default of every `ARG NAME` of the
    file, before FROM and in a stage. Their text comes from other files (Piece.origin), whose decoded
    `sources` say where its bytes are, so that a pin they make points at the script or workflow."""
    return _Reader(lex(path, data), cat or catalog(), build_args or {}, sources or {}).run()


def read_file(path: str, cat: Optional[Catalog] = None) -> Dockerfile:
    return read(path, read_bytes(path), cat)


def read_bytes(path: str) -> bytes:
    """A Dockerfile's bytes; a directory, FIFO or device is refused before it can block a hook."""
    from aligner.base.paths import read_regular

    return read_regular(path, MAX_BYTES)


def _narrowed(f: Found) -> Tuple[int, int]:
    """The part of a found value that one span of the file holds: `v${VLLM_REF}` is VLLM_REF's value, and
    `${FI_VERSION}%2Bcu128torch2.7` in a wheel name is FI_VERSION's (the local label is the file name's)."""
    i, j = f.i, f.j
    text = f.word.text
    v_prefix = text[i:i + 1] in ("v", "V") and f.word.locate(i + 1, j)
    if v_prefix and f.word.unknown_in(i + 1, j):
        return i + 1, j  # `v${SGL_VERSION}` with no value in the file: the variable is the pin
    if f.word.locate(i, j):
        return i, j
    if v_prefix:
        return i + 1, j
    local = re.search(r"\+|%2[bB]", text[i:j])
    if local and f.word.locate(i, i + local.start()):
        return i, i + local.start()
    return i, j


def _form(f: Found, i: int, j: int, effective: str, scheme: str, constrained: bool = False) -> str:
    """The form of a found value. What the build computes (`$(cat f)`, a variable with no value in the
    file) is `dynamic` or `unset`, never a reason to refuse the file; a value with shell metacharacters
    is no version (`moving`), so neither it nor a dynamic one is ever passed to a build or written."""
    if f.word.unknown_in(i, j):
        return "dynamic" if effective else "unset"
    if f.local and not effective:
        return "local"
    if constrained and f.kind == "pip" and not effective:
        return "constrained"
    return form(effective, scheme, f.op)  # shell metacharacters never make a version


def _both(a, b):
    """Platforms under two restrictions (None: no restriction)."""
    return b if a is None else a if b is None else a & b


def _shell_script(words: List[Traced]) -> Optional[Traced]:
    """The script of `sh -c SCRIPT`, `bash -ec SCRIPT`, `/bin/bash -lc SCRIPT`; None for other commands."""
    k = 0
    while k < len(words) and words[k].text in ("sudo", "exec", "env", "command", "nohup", "time"):
        k += 1
    if k >= len(words) or posixpath.basename(words[k].text) not in SHELLS:
        return None
    for at in range(k + 1, len(words)):
        text = words[at].text
        if not text.startswith("-") or text in ("-", "--"):
            return None
        if not text.startswith("--") and "c" in text[1:]:
            return words[at + 1] if at + 1 < len(words) else None
    return None


class _Reader:
    def __init__(self, src: Source, cat: Catalog, build_args: Dict[str, Traced], sources: Dict[str, Source]):
        self.src, self.cat = src, cat
        self.build_args, self.sources = build_args, sources
        self.out = Dockerfile(src.path)
        self.globals: Dict[str, _Binding] = {}
        self.args: Dict[str, _Binding] = {}
        self.env: Dict[str, Traced] = {}
        self.stage_env: List[Dict[str, Traced]] = []
        self.stage_args: List[Dict[str, _Binding]] = []
        self.stage_base_env: List[frozenset] = []
        self.base_env: frozenset = frozenset()  # names the stage's base image sets itself
        self.stage: Optional[Stage] = None
        self.hidden: Set[str] = set()
        self.inst: Optional[Instruction] = None
        self.only = None  # the platforms the RUN command being read runs on (None: all)
        self.clones = Clones()  # the stage's git clones, across its RUNs
        self.bare_clones: List[Tuple[str, Pin]] = []  # the stage's clones pinned as having no ref
        self.cuda: Optional[str] = None  # the CUDA its index or torch backend names ("12.8", "cpu")
        self.conditional = False  # the command runs only when a shell test holds
        self.cuda_at = None  # (path, start, end) of the digits of the command's cuXYZ index or backend
        self.constrained = False  # a constraints file (-c, PIP_CONSTRAINT, UV_CONSTRAINT) decides open specs

    def run(self) -> Dockerfile:
        for inst in self.src.instructions:
            self.inst, self.hidden = inst, set()
            handler = getattr(self, "_" + inst.keyword.lower(), None)
            if self.stage is None and inst.keyword != "ARG" and inst.keyword != "FROM":
                raise self.src.error(inst.line, f"{inst.keyword} before the first FROM")
            try:
                if handler:
                    handler(inst)
            except WordError as exc:
                raise self._word_error(exc) from None
        if not self.out.stages:
            raise self.src.error(1, "no FROM instruction: not a Dockerfile")
        self.out.pins.sort(key=lambda p: (p.use_line, p.line, p.column, p.kind))
        return self.out

    def _word_error(self, exc: WordError) -> InputError:
        offset = exc.offset()
        line = self.src.line_of(offset) if offset >= 0 else self.inst.line
        return self.src.error(line, str(exc))

    # -- scopes ------------------------------------------------------------
    def lookup(self, name: str, at: int = -1) -> Optional[Traced]:
        if self.stage is None:
            b = self.globals.get(name)
            return b.value if b else None
        if name in self.env:
            return self.env[name]
        if name in self.args:
            return self.args[name].value
        if name in self.base_env:
            return None  # the base image sets it: a value the file does not know, not an empty one
        if name in self.globals:
            self.hidden.add(name)
            line = self.src.line_of(at) if at >= 0 else self.inst.line
            self.out.hidden_uses.append(HiddenUse(name, line, self.stage.label, self.globals[name].line))
            return self.globals[name].value
        return None

    def global_lookup(self, name: str, at: int = -1) -> Optional[Traced]:
        b = self.globals.get(name)
        return b.value if b else None

    # -- instructions --------------------------------------------------------
    def _arg(self, inst: Instruction) -> None:
        for n, (name, value) in enumerate(self._assignments(inst, legacy=False)):
            if name in self.build_args:  # `--build-arg NAME=VALUE` wins over the default, or gives the value
                value = self.build_args[name]
            if self.stage is None:
                self.globals[name] = _Binding(value, inst.line)
            elif value is None:
                outer = self.globals.get(name)
                self.args[name] = _Binding(outer.value if outer else None, inst.line)
            else:
                self.args[name] = _Binding(value, inst.line)
            self._declared("arg", name, value, n == 0)

    def _env(self, inst: Instruction) -> None:
        for n, (name, value) in enumerate(self._assignments(inst, legacy=True)):
            self.env[name] = value
            self._declared("env", name, value, n == 0)

    def _assignments(self, inst: Instruction, legacy: bool) -> List[Tuple[str, Optional[Traced]]]:
        args, text = inst.args, inst.args.text
        words = split_raw(text, self.src.escape)
        if not words:
            raise self.src.error(inst.line, f"{inst.keyword} needs at least one name")
        out = []
        first = text[words[0][0]:words[0][1]]
        if legacy and "=" not in first:
            rest = words[1][0] if len(words) > 1 else len(text)
            value = expand_word(args.slice(rest, len(text.rstrip())), self.lookup, self.src.escape)
            return [(self._name(first, inst), value)]
        for a, b in words:
            raw = text[a:b]
            if not legacy and raw.startswith("#"):
                break  # `ARG V="x"  # note`: Docker declares the words after as ARGs without value; none is a pin
            eq = raw.find("=")
            if not legacy and not _VAR_NAME.fullmatch(raw[:eq] if eq >= 0 else raw):
                continue  # BuildKit declares it, but no `$NAME` can ever reach it
            if eq < 0:
                if legacy:
                    raise self.src.error(inst.line, f"ENV {raw!r} has no value")
                out.append((self._name(raw, inst), None))
            else:
                name = self._name(raw[:eq], inst)
                value = expand_word(args.slice(a + eq + 1, b), self.lookup, self.src.escape)
                out.append((name, value))
        return out

    def _source(self, origin: Optional[str]) -> Source:
        """The decoded file that text of this origin lies in: the Dockerfile, or a build script."""
        return self.sources[origin] if origin is not None else self.src

    def _span(self, value: Optional[Traced]) -> Optional[Span]:
        """Where a declared value's bytes are, when one run of a file holds all of them."""
        where = value.locate(0, len(value.text)) if value is not None and value.text else None
        if where is None:
            return None
        (a, b), _ = where
        src = self._source(value.origin_of(0, len(value.text)))
        return Span(src.path, src.line_of(a), src.column_of(a), src.byte_offset(a), src.byte_offset(b))

    def _name(self, name: str, inst: Instruction) -> str:
        if not _VAR_NAME.fullmatch(name):
            raise self.src.error(inst.line, f"{inst.keyword} name {name[:40]!r} is not a valid variable name")
        return name

    def _declared(self, kind: str, name: str, value: Optional[Traced], first: bool) -> None:
        label = self.stage.label if self.stage else None
        head = next((p for p in value.pieces if not p.synthetic and p.start >= 0), None) if value is not None else None
        value_line = self.src.line_of(head.start) if head and head.origin is None else self.inst.line
        self.out.variables.append(Variable(kind, name, value.text if value is not None else None, self.inst.line,
                                           label, value_line, bool(value is not None and value.unknown),
                                           self._span(value)))
        if value is None:
            return
        component, requirement = None, False
        note = self.src.comments.get(self.inst.line - 1, "") if first else ""
        renovate = _RENOVATE.search(note)
        if renovate:
            component = self.cat.by_dep_name(renovate.group(1))
        if component is None:
            match = self.cat.by_variable(name)
            if match is None:
                return
            component, requirement = match.component, match.requirement
        if requirement:
            for f in requirement_finds(self.cat, value, kind):
                self._pin(Found(f.component, kind, name, value, f.i, f.j, f.op))
        else:
            self._pin(Found(component, kind, name, value, 0, len(value)))

    def _from(self, inst: Instruction) -> None:
        text = inst.args.text
        words = [(text[a:b], a, b) for a, b in split_raw(text, self.src.escape)]
        for flag, _, _ in words:
            if flag.startswith("--platform="):
                named = platform_of(flag[len("--platform="):])
                if named:
                    self.out.platforms.add(named)
        words = [w for w in words if not w[0].startswith("--")]
        if not words:
            raise self.src.error(inst.line, "FROM needs an image")
        raw, a, b = words[0]
        name = words[2][0] if len(words) >= 3 and words[1][0].lower() == "as" else None
        image = expand_word(inst.args.slice(a, b), self.global_lookup, self.src.escape)
        parent = next((s.index for s in self.out.stages if s.name and s.name.lower() == image.text.lower()), None)
        self.stage = Stage(len(self.out.stages), name, image.text, inst.line, parent, raw)
        self.out.stages.append(self.stage)
        # BuildKit: a stage built FROM an earlier one starts with that stage's ARGs and ENVs
        self.args = dict(self.stage_args[parent]) if parent is not None else {}
        self.env = dict(self.stage_env[parent]) if parent is not None else {}
        self.clones, self.bare_clones = Clones(), []
        self.stage_args.append(self.args)
        self.stage_env.append(self.env)
        self.base_env = self.stage_base_env[parent] if parent is not None else facts.base_env(None if "$" in image.text else image_path(image.text)[0].lower())
        self.stage_base_env.append(self.base_env)
        if parent is None:
            for found in image_finds(self.cat, image):
                self._pin(found)

    def _run(self, inst: Instruction) -> None:
        try:
            self._run_commands(inst)
        except WordError as exc:
            # Docker hands a RUN to the shell unread: a script aligner cannot follow is left unread, not refused
            offset = exc.offset()
            self.out.unread.append((self.src.line_of(offset) if offset >= 0 else inst.line, str(exc)))

    def _run_commands(self, inst: Instruction) -> None:
        args, text = inst.args, inst.args.text
        start = next((a for a, b in split_raw(text) if not text.startswith("--", a)), len(text))
        command = args.slice(start, len(text))
        exec_form = self._exec_form(command)
        commands = [(words, None) for words in exec_form or []]
        if exec_form is None:
            commands = self._program(command)
            if inst.heredocs and (not commands or posixpath.basename(commands[0][0][0].text) in SHELLS):
                for doc in inst.heredocs:
                    commands += self._program(doc.body)
        clone = self.clones
        queue = list(commands)
        while queue:
            words, only = queue.pop(0)
            script = _shell_script(words)
            if script is not None:  # `bash -c '...'`: its script is a program of its own
                queue[:0] = [(w, _both(only, inner)) for w, inner in self._program(script)]
                continue
            if any(w.text.endswith("use_existing_torch.py") for w in words):
                self.out.existing_torch = True
            system = os_python(words)
            if system:
                self.out.os_python.append((inst.line, self.stage.label if self.stage else None))
            elif system is False:
                self.out.other_python = True
                self.out.any_python = self.out.any_python or any_python(words)
            self.only, self.cuda = only, self._index_cuda(words)
            self.cuda_at = self._index_cuda_at(words)
            self.conditional = getattr(words, "conditional", False)
            self.constrained = self._constrained(words)
            for found in command_finds(self.cat, words, clone):
                self._pin(found)
            for name, word, i, j in variant_names(self.cat, words):
                self._variant(name, word, i, j)
        for bare in clone.unpinned:
            self._pin(bare)
            self.bare_clones.append((bare.name, self.out.pins[-1]))
        clone.unpinned = []
        # a checkout gives the last bare clone of its repository a ref, in this RUN or a later one of the stage
        for repo in clone.checked_out:
            bare = [b for b in self.bare_clones if b[0] == repo]
            if bare:
                self.out.pins.remove(bare[-1][1])
                self.bare_clones.remove(bare[-1])
        clone.checked_out = []
        self.only, self.cuda, self.constrained = None, None, False

    def _constrained(self, words: List[Traced]) -> bool:
        """Whether a constraints or overrides file decides versions this command leaves open."""
        texts = [w.text for w in words]
        if any(t.split("=")[0] in _CONSTRAINT_OPTIONS for t in texts):
            return True
        if any(t.partition("=")[0] in _CONSTRAINT_VARIABLES and "=" in t for t in texts):
            return True
        return any(name in self.env or (name in self.args and self.args[name].value) for name in _CONSTRAINT_VARIABLES)

    def _stage_value(self, name: str) -> Optional[Traced]:
        """The stage's own ENV or ARG value of a name, read without lookup(): a probe is no use of it."""
        return self.env.get(name) or (self.args[name].value if name in self.args else None)

    def _index_cuda(self, words: List[Traced]) -> Optional[str]:
        """The CUDA a pip/uv command's index or torch backend names, from its options, an assignment
        before it (`UV_TORCH_BACKEND=cu128 uv pip install`) or the stage's ENV and ARGs."""
        values = index_values(words)
        for word in words:
            name, eq, value = word.text.partition("=")
            if eq and name in INDEX_VARIABLES:
                values.append(value)
        values += [v.text for v in map(self._stage_value, INDEX_VARIABLES) if v is not None]
        return cuda_of_index(values)

    def _variant(self, name: str, word: Traced, i: int, j: int) -> None:
        where = word.locate(i, j)
        if where:
            (a, b), _ = where
            src = self._source(word.origin_of(i, j))
            at, start, end = a, src.byte_offset(a), src.byte_offset(b)
        else:
            piece = word.slice(i, j).pieces[0]
            src = self._source(piece.origin)
            at, start, end = piece.start, None, None
        self.out.variants.append(Variant(name, int(word.text[i:j]), src.path, src.line_of(at), src.column_of(at),
                                         start, end, self.conditional))

    def _index_cuda_at(self, words: List[Traced]):
        """(path, byte start, byte end) of the XYZ of the one `cuXYZ` a command's index or backend option
        writes, where one span of a file holds it; None otherwise."""
        found = []
        for word, offset in option_values(words, BACKEND_OPTS):
            m = CU_TAG.search(word.text, max(0, offset - 1))  # the `=` of `--torch-backend=cu128` may lead it
            if m and m.start(1) >= offset:
                found.append((word, m.start(1), m.end(2)))
        if len(found) != 1:
            return None
        word, i, j = found[0]
        where = word.locate(i, j)
        if not where:
            return None
        (a, b), _ = where
        src = self._source(word.origin_of(i, j))
        return src.path, src.byte_offset(a), src.byte_offset(b)

    def _program(self, script: Traced):
        commands, named = shell_program(script, self.lookup)
        self.out.platforms.update(named)
        return commands

    @staticmethod
    def _exec_form(command: Traced) -> Optional[List[List[Traced]]]:
        text = command.text.strip()
        if not text.startswith("["):
            return None
        try:
            items = json.loads(text)
        except ValueError:
            return None
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            return None
        words = []
        for m in _JSON_STRING.finditer(command.text):
            if "\\" in m.group(1):
                words.append(Traced([Piece(json.loads(m.group(0)), -1, -1, synthetic=True)]))
            else:
                words.append(command.slice(m.start(1), m.end(1)))
        return [words]

    # -- pins ------------------------------------------------------------------
    def _stands_alone(self, start: int, src: Optional[Source] = None) -> bool:
        """Whether a value starting at `start` can be replaced without the bytes before it acting on the
        new ones: not after an unbraced `$NAME` (`$A.1` -> `$A0.11.0` names A0), nor after an escape
        character (`\\$A` -> `\\0.11.0` keeps the backslash)."""
        src = src or self.src
        esc = re.escape(self.src.escape)
        before = src.text[max(0, start - 1024):start]
        # line continuations (and the comment lines inside them) join what lies on either side: `$A\<nl>1.0`
        # is `$A1.0`, so read the logical text
        before = re.sub(r"%s[ \t]*\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*" % esc, "", before)
        if re.search(r"(?<!%s)\$[A-Za-z_][A-Za-z0-9_]*$" % esc, before):
            return False
        # the shell escapes with a backslash whatever Docker escapes with: under `# escape=``, RUN "\\$A" is $A
        for char in dict.fromkeys((self.src.escape, "\\")):
            if (len(before) - len(before.rstrip(char))) % 2:
                return False
        return True

    def _pin(self, f: Found) -> None:
        inst = self.inst
        effective = unquote(f.word.text[f.i:f.j])  # a URL's `%2B` is a wheel version's `+`
        i, j = _narrowed(f)
        where = f.word.locate(i, j)
        src = self._source(f.word.origin_of(i, j))  # a value a build script passes is pinned where it is written
        if where and (i, j) != (f.i, f.j):
            effective = unquote(f.word.text[i:j])
        if where and not self._stands_alone(where[0][0], src):
            where = None  # new bytes there would join what comes before: not one span to rewrite
        if where:
            (a, b), via = where
            value, start, end = src.text[a:b], src.byte_offset(a), src.byte_offset(b)
            line, column = src.line_of(a), src.column_of(a)
            if f.anchor:
                start = end = None
        else:
            # held in several places (e.g. a tag of an ARG and literal text): no one span
            first = f.word.slice(f.i, f.j).pieces[0]
            src = self._source(first.origin)
            at = first.start if not first.synthetic else self.src.line_starts[inst.line - 1]
            src = src if not first.synthetic else self.src
            via, value, start, end = first.via, effective, None, None
            line, column = src.line_of(at), src.column_of(at)
        scheme = self.cat.scheme(f.component)
        kind_form = _form(f, i, j, effective, scheme, self.constrained)
        version = normalise(effective, scheme) if kind_form in ("version", "range") else None
        pin = Pin(
            path=src.path,
            component=f.component,
            kind=f.kind,
            name=f.name,
            value=value,
            version=version,
            form=kind_form,
            line=line,
            column=column,
            start=start,
            end=end,
            stage=self.stage.label if self.stage else None,
            op=f.op if f.kind == "pip" else None,
            extras=f.extras,
            via=via,
            use_line=inst.line if via else line,
            visible=via not in self.hidden,
            platforms=tuple(sorted(self.only)) if self.only is not None and f.kind != "from" else (),
            cuda=self.cuda if f.kind == "pip" else None,
            conditional=self.conditional if f.kind == "pip" else False,
            cuda_at=self.cuda_at if f.kind == "pip" else None,
        )
        self.out.pins.append(pin)  # each use is a pin: `git checkout $REF` in one branch, `clone -b $REF` in another
