"""`[tool.aligner]` in pyproject.toml, or an aligner.toml: what the repo's images are.

    [tool.aligner]
    upstream = "https://…/pyproject.toml"      # or a path, relative to the config file,
                                               # or a release: "ai-dynamo==1.6.1" (its metadata)
    dockerfiles = ["dockerfiles/**/Dockerfile*"]
    lock = "lock/aligner.lock"
    platforms = ["linux/amd64", "linux/arm64"]

    [tool.aligner.images.dynamo-vllm]
    dockerfiles = ["dockerfiles/Dockerfile.base", "dockerfiles/Dockerfile.dynamo-vllm"]
    extra = "vllm"
    gpus = ["H100", "GB10"]

    [tool.aligner.components.my-kernels]      # a component aligner does not know
    pip = ["my-kernels"]                      # its pip names
    arg-aliases = ["MY_KERNELS"]              # ARG MY_KERNELS_VERSION=... pins it
    probe = { kind = "distribution", name = "my-kernels" }   # the default

A repo's own component is locked at the version its Dockerfile pins (no index
lookup), and `verify` probes it like any other.

Unknown keys and wrong types are errors that name the key, as ruff's are.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from aligner.base import _toml
from aligner.base.errors import InputError

DEFAULT_LOCK = "lock/aligner.lock"
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")
KNOWN_PLATFORMS = frozenset(DEFAULT_PLATFORMS)


@dataclass(frozen=True)
class ImageConfig:
    name: str
    dockerfiles: Tuple[str, ...]  # relative to the root; later files build on earlier ones
    extra: Optional[str]
    gpus: Tuple[str, ...]
    platforms: Tuple[str, ...]
    driver: Optional[str] = None  # the target hosts' Linux driver, for the CUDA driver floor
    context: str = "."  # the build context, relative to the root (for `verify --build` and `bake`)
    build_args: Optional[Tuple[str, ...]] = None  # scripts that run its build, relative to the root; None: found


@dataclass
class Config:
    root: Path
    path: Optional[Path]
    upstream: Optional[str] = None
    dockerfiles: List[str] = field(default_factory=list)
    lock: str = DEFAULT_LOCK
    platforms: Tuple[str, ...] = DEFAULT_PLATFORMS
    platforms_given: bool = False  # `platforms` set in the config; else a lone file's own evidence decides
    images: Dict[str, ImageConfig] = field(default_factory=dict)
    select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    severity: Dict[str, str] = field(default_factory=dict)
    components: Dict[str, dict] = field(default_factory=dict)  # catalog entries of the repo's own components

    def catalog(self):
        from aligner.know.components import builtin

        return builtin().extended(self.components)

    def lock_path(self) -> Path:
        return self.root / self.lock

    def upstream_source(self) -> Optional[str]:
        from aligner.read.upstream import is_release

        if self.upstream is None or "://" in self.upstream or is_release(self.upstream):
            return self.upstream
        return str(self.root / self.upstream)

    def image_dockerfiles(self) -> List[str]:
        """The configured images' Dockerfiles, each once, as paths under the root."""
        return list(dict.fromkeys(str(self.root / d) for image in self.images.values() for d in image.dockerfiles))

    def dockerfile_paths(self) -> List[str]:
        """The `dockerfiles` globs' matches, then the images' Dockerfiles, each once."""
        out = []
        for pattern in self.dockerfiles:
            out += sorted(glob.glob(str(self.root / pattern), recursive=True))
        return list(dict.fromkeys(out + self.image_dockerfiles()))


TOP_KEYS = {"upstream": str, "dockerfiles": list, "lock": str, "platforms": list, "images": dict,
            "select": list, "ignore": list, "extend-select": list, "severity": dict, "components": dict}
COMPONENT_KEYS = {"pip": list, "arg-aliases": list, "repos": list, "probe": dict}
PROBE_KINDS = ("distribution", "python", "command")
MAX_BYTES = 1 << 20  # a config or pyproject of a megabyte is no config
IMAGE_KEYS = {"dockerfile": str, "dockerfiles": list, "extra": str, "gpus": list, "platforms": list, "driver": str,
              "context": str, "build-args": list}


def _check_dockerfile(root: Path, name: str, where: str, key: str) -> None:
    """A configured Dockerfile: there, a regular file, and inside the repository (a symlink may not lead out)."""
    from aligner.read.discover import inside

    path, named_by = root / name, f"{where}, {key}"
    if not os.path.lexists(path):
        raise InputError(where, None, f"{key}: no such Dockerfile {name!r}")
    if not os.path.isfile(path):
        raise InputError(str(path), None, "is not a regular file (a directory, FIFO, socket or device): not reading "
                                          f"it (named by {named_by})")
    if not inside(path, root):
        how = "is a symlink that leads" if os.path.islink(path) else "lies"
        raise InputError(str(path), None, f"{how} out of the repository ({root}): not reading it (named by {named_by})")


def find(start: Optional[Path] = None) -> Optional[Path]:
    """The nearest aligner.toml, or pyproject.toml with [tool.aligner], from start upwards."""
    here = Path(start or os.getcwd()).resolve()
    for d in [here, *here.parents]:
        if (d / "aligner.toml").is_file():
            return d / "aligner.toml"
        py = d / "pyproject.toml"
        if py.is_file():
            from aligner.base.paths import read_regular

            try:
                tool = _toml.loads(read_regular(py, MAX_BYTES).decode("utf-8")).get("tool", {})
                if isinstance(tool, dict) and "aligner" in tool:
                    return py
            except (_toml.TOMLDecodeError, UnicodeDecodeError, InputError):
                return py  # let load() report what is wrong with it
    return None


def load(path: Optional[Path] = None) -> Config:
    path = path or find()
    if path is None:
        return Config(root=Path.cwd(), path=None)
    path = Path(path)
    where = str(path)
    from aligner.base.paths import read_regular

    try:
        data = _toml.loads(read_regular(path, MAX_BYTES).decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(where, None, "not valid UTF-8") from None
    except _toml.TOMLDecodeError as exc:
        raise InputError(where, _toml.line_of(exc), f"invalid TOML: {exc}") from None
    tool = data.get("tool", {}) if path.name == "pyproject.toml" else {}
    if not isinstance(tool, dict):
        raise InputError(where, None, "`tool` must be a table")
    table = tool.get("aligner") if path.name == "pyproject.toml" else data
    if table is not None and not isinstance(table, dict):
        raise InputError(where, None, "`tool.aligner` must be a table")
    prefix = "tool.aligner." if path.name == "pyproject.toml" else ""
    if table is None:
        return Config(root=path.parent, path=path)
    _check(table, TOP_KEYS, prefix, where)
    cfg = Config(root=path.parent, path=path)
    cfg.upstream = table.get("upstream")
    cfg.dockerfiles = _strings(table, "dockerfiles", prefix, where)
    cfg.lock = table.get("lock", DEFAULT_LOCK)
    given = _platforms(table, prefix, where)
    cfg.platforms, cfg.platforms_given = tuple(given or DEFAULT_PLATFORMS), bool(given)
    cfg.select = tuple(_strings(table, "select", prefix, where))
    cfg.ignore = tuple(_strings(table, "ignore", prefix, where))
    cfg.extend_select = tuple(_strings(table, "extend-select", prefix, where))
    _codes([*cfg.select, *cfg.ignore, *cfg.extend_select, *table.get("severity", {})], prefix, where)
    for code, level in table.get("severity", {}).items():
        if level not in ("error", "warning", "info"):
            raise InputError(where, None, f"`{prefix}severity.{code}` must be error, warning or info, not {level!r}")
        cfg.severity[code] = level
    cfg.components = _components(table.get("components", {}), prefix, where)
    for name, image in sorted(table.get("images", {}).items()):
        key = f"{prefix}images.{name}"
        if not isinstance(image, dict):
            raise InputError(where, None, f"{key} must be a table")
        _check(image, IMAGE_KEYS, key + ".", where)
        files = _strings(image, "dockerfiles", key + ".", where) or (
            [image["dockerfile"]] if "dockerfile" in image else [])
        if not files:
            raise InputError(where, None, f"{key} needs `dockerfile` or `dockerfiles`")
        for f in files:
            _check_dockerfile(cfg.root, f, where, key)
        plats = _platforms(image, key + ".", where) or cfg.platforms
        _gpus(_strings(image, "gpus", key + ".", where), key + ".gpus", where)
        if "driver" in image and not re.fullmatch(r"\d+(\.\d+){0,2}", image["driver"]):
            raise InputError(where, None, f"`{key}.driver` must be a driver version such as 570.124.06, "
                                          f"not {image['driver']!r}")
        context = image.get("context", ".")
        if not (cfg.root / context).is_dir():
            raise InputError(where, None, f"`{key}.context`: no such directory {context!r}")
        sources = None
        if "build-args" in image:
            sources = tuple(_strings(image, "build-args", key + ".", where))
            for s in sources:
                if not (cfg.root / s).is_file():
                    raise InputError(where, None, f"`{key}.build-args`: no such file {s!r}")
        cfg.images[name] = ImageConfig(name, tuple(files), image.get("extra"),
                                       tuple(_strings(image, "gpus", key + ".", where)), tuple(plats), image.get("driver"),
                                       context, sources)
    return cfg


def _components(table: dict, prefix: str, where: str) -> Dict[str, dict]:
    from aligner.know.components import builtin

    out = {}
    for name, entry in sorted(table.items()):
        key = f"{prefix}components.{name}"
        if name in builtin().components:
            raise InputError(where, None, f"`{key}`: {name!r} is a built-in component; pick another name")
        if not isinstance(entry, dict):
            raise InputError(where, None, f"`{key}` must be a table")
        _check(entry, COMPONENT_KEYS, key + ".", where)
        for k in ("pip", "arg-aliases", "repos"):
            _strings(entry, k, key + ".", where)
        if not entry.get("pip") and not entry.get("arg-aliases"):
            raise InputError(where, None, f"`{key}` needs `pip` or `arg-aliases`, or aligner cannot find its pins")
        bad = [a for a in entry.get("arg-aliases", []) if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", a)]
        if bad:
            raise InputError(where, None, f"`{key}.arg-aliases`: {bad[0]!r} is not an ARG name")
        probe = dict(entry.get("probe") or ({"kind": "distribution", "name": entry["pip"][0]} if entry.get("pip") else {}))
        if probe and probe.get("kind") not in PROBE_KINDS:
            raise InputError(where, None, f"`{key}.probe.kind` must be one of {', '.join(PROBE_KINDS)}")
        if probe.get("kind") == "distribution" and not isinstance(probe.get("name"), str):
            raise InputError(where, None, f"`{key}.probe.name` must name the distribution to read")
        if probe.get("kind") == "command" and not (isinstance(probe.get("argv"), list) and probe["argv"]
                                                   and all(isinstance(a, str) for a in probe["argv"])):
            raise InputError(where, None, f"`{key}.probe.argv` must be a non-empty list of strings")
        out[name] = {"scheme": "pep440", "versions": "pinned", "pip": entry.get("pip", []),
                     "arg-aliases": entry.get("arg-aliases", []), "repos": entry.get("repos", []), "probe": probe}
    return out


def _check(table: dict, known: dict, prefix: str, where: str) -> None:
    for key, value in table.items():
        if key not in known:
            raise InputError(where, None, f"unknown key `{prefix}{key}` (known: {', '.join(sorted(known))})")
        if not isinstance(value, known[key]):
            raise InputError(where, None, f"`{prefix}{key}` must be a {known[key].__name__}, not {type(value).__name__}")


def _gpus(names: List[str], key: str, where: str) -> None:
    from aligner.know import facts

    known = {n for r in facts.table("gpus.gpu") for n in (r["name"], *r.get("aliases", []))}
    bad = [n for n in names if n not in known]
    if bad:
        raise InputError(where, None, f"`{key}`: unknown GPU {bad[0]!r} (known: {', '.join(sorted(known))})")


def _codes(codes: List[str], prefix: str, where: str) -> None:
    from aligner.know.codes import pages as docs

    bad = [c for c in codes if c.upper() != "ALL" and not any(k.startswith(c.upper()) for k in docs())]
    if bad:
        raise InputError(where, None, f"`{prefix}select/ignore/severity`: unknown rule code {bad[0]!r}")


def _strings(table: dict, key: str, prefix: str, where: str) -> List[str]:
    values = table.get(key, [])
    if not all(isinstance(v, str) for v in values):
        raise InputError(where, None, f"`{prefix}{key}` must be a list of strings")
    return list(values)


def _platforms(table: dict, prefix: str, where: str) -> List[str]:
    plats = _strings(table, "platforms", prefix, where)
    bad = [p for p in plats if p not in KNOWN_PLATFORMS]
    if bad:
        raise InputError(where, None, f"`{prefix}platforms`: unknown platform {bad[0]!r} "
                                      f"(known: {', '.join(sorted(KNOWN_PLATFORMS))})")
    return plats
