"""`aligner verify` and `aligner bake`: their options and how they run (wired into the CLI)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

VERIFY_HELP = """\
Prove the lock. --build builds each locked image with the lock's values as
--build-args (real Docker builds, up to --jobs at once), starts ONE container
per image that runs every probe of its components (importlib.metadata, the
interpreter, /usr/local/cuda/version.json or CUDA_VERSION or nvcc, ucx_info),
and compares what it finds with the lock. --resolve asks uv whether each
image's locked Python pins install together for its Python and platforms,
without installing anything (an sdist-only release has its metadata built,
as pip in the image would; --no-build forbids that). With neither, both run.

Builds use the docker CLI with BuildKit (buildx, or a classic CLI before 23
with DOCKER_BUILDKIT=1); ALIGNER_DOCKER or --docker picks the CLI and
DOCKER_HOST the engine. --host-secrets passes the host's CA bundle
(SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE or pip's `cert`) as the build
secret `ca` and its proxies (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) as the
secrets `https_proxy`, `http_proxy`, `no_proxy`: a Dockerfile reads them with
`RUN --mount=type=secret,id=ca pip install --cert /run/secrets/ca ...`, so
they never end up in a layer.
"""


def add(sub, config_arg) -> None:
    v = sub.add_parser("verify", help="prove the lock: build the images and probe them, or resolve with uv",
                       description=VERIFY_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="exit status: 0 the lock holds, 1 a mismatch, a failed build or an unresolvable "
                              "set, 2 error")
    config_arg(v)
    v.add_argument("--build", action="store_true", help="build each image and run its probes")
    v.add_argument("--resolve", action="store_true", help="resolve each image's Python pins with uv")
    v.add_argument("--images", nargs="+", metavar="NAME", help="only these images of the lock")
    v.add_argument("--platform", action="append", metavar="P",
                   help="build for P (repeatable; default: this host's platform, where the image lists it). "
                        "--resolve takes every platform of the lock unless given")
    v.add_argument("--jobs", "-j", type=int, default=2, metavar="N", help="builds at once (default 2)")
    v.add_argument("--logs", metavar="DIR", help="keep each build's log here (default: a new temporary directory)")
    v.add_argument("--report", metavar="FILE", help="write the results: FILE.md (Markdown) or FILE.json")
    v.add_argument("--builder", choices=("docker", "bake"), default="docker",
                   help="docker: one `docker build` per Dockerfile (default); bake: one `docker buildx bake` "
                        "of the whole matrix (needs buildx)")
    v.add_argument("--no-cache", action="store_true", help="build without the engine's layer cache")
    v.add_argument("--docker", metavar="CLI", help="the docker CLI to use (default: ALIGNER_DOCKER, else PATH)")
    v.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="also pass this build arg (e.g. BASE_IMAGE=a local base image); the lock's values win")
    v.add_argument("--secret", action="append", default=[], metavar="SPEC",
                   help="pass a BuildKit secret, as `docker build --secret` takes it (id=ID,src=FILE)")
    v.add_argument("--host-secrets", action="store_true", help="pass the host's CA bundle and proxies as secrets")
    v.add_argument("--glibc", metavar="X.Y",
                   help="--resolve: the glibc of the images' OS, for manylinux wheel tags (default: the OS their "
                        "base image's tag names, from rules/os.toml, e.g. 2.39 for ubuntu24.04; else 2.28)")
    v.add_argument("--no-build", action="store_true",
                   help="--resolve: never build an sdist for its metadata (no package code runs here); a release "
                        "with no wheel then fails to resolve")
    v.set_defaults(run=cmd_verify)

    b = sub.add_parser("bake", help="write a BuildKit bake file for the locked images",
                       description="A bake file (JSON) with one target per locked image and platform and the "
                                   "lock's build args, for `docker buildx bake -f FILE` on any builder. Chained "
                                   "Dockerfiles (a base, then an engine) are linked by named contexts.")
    config_arg(b)
    b.add_argument("--print", action="store_true", help="print the file instead of writing it")
    b.add_argument("-o", "--output", default="docker-bake.json", help="where to write it (default docker-bake.json)")
    b.add_argument("--images", nargs="+", metavar="NAME", help="only these images of the lock")
    b.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE", help="also set this build arg")
    b.set_defaults(run=cmd_bake)


def _pairs(items: List[str], flag: str):
    from aligner.errors import InputError

    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise InputError(flag, None, f"expected KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _targets(args, cfg, platforms=None):
    from aligner import lock
    from aligner.build import plan
    from aligner.components import catalog
    from aligner.config import KNOWN_PLATFORMS
    from aligner.errors import InputError
    from aligner.paths import display

    path = cfg.lock_path()
    if not path.exists():
        raise InputError(display(str(path)), None, "no lock: run `aligner lock` first")
    data = lock.read(path)
    contexts = {name: img.context for name, img in cfg.images.items()}
    if not lock.matches_inputs(cfg, data):
        print(f"note: {display(str(path))} is stale (its Dockerfiles or config changed since `aligner lock`); "
              "verifying it as written", file=sys.stderr)
    bad = [p for p in (platforms or []) if p not in KNOWN_PLATFORMS]
    if bad:
        raise InputError("--platform", None, f"unknown platform {bad[0]!r} (known: {', '.join(sorted(KNOWN_PLATFORMS))})")
    return plan.targets(data, cfg.root, catalog(), contexts, args.images, platforms,
                              _pairs(args.build_arg, "--build-arg"), display(str(path)))


def cmd_bake(args) -> int:
    from aligner.build import bake
    from aligner.cli import _load_config
    from aligner.atomic import atomic_write

    cfg = _load_config(args)
    targets = _targets(args, cfg)
    text = bake.dumps(targets)
    if args.print:
        sys.stdout.write(text)
    else:
        atomic_write(Path(args.output).resolve(), text.encode("utf-8"))
        print(f"{args.output}: {len(targets)} target{'s' if len(targets) != 1 else ''}", file=sys.stderr)
    return EXIT_OK


def cmd_verify(args) -> int:
    from aligner.cli import _load_config

    if args.report and not args.report.endswith((".md", ".json")):
        print("error: --report must name a .md or .json file", file=sys.stderr)
        return EXIT_ERROR
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return EXIT_ERROR
    cfg = _load_config(args)
    targets = _targets(args, cfg, args.platform)  # every image and platform of the lock (or --platform)
    from aligner import fetch
    from aligner.errors import InputError

    both, args.offline = not (args.build or args.resolve), fetch.OFFLINE  # --offline or ALIGNER_OFFLINE
    if args.offline and args.build:
        raise InputError("--offline", None, "verify --build needs the network (base images, pip in the build); "
                                            "use --resolve, which runs uv --offline, or drop --offline")
    if args.offline and both:
        print("note: --offline: resolving only; a build needs the network", file=sys.stderr)
        both, args.resolve = False, True
    report: dict = {}
    failed = False
    if args.resolve or both:
        failed |= _resolve(args, targets, report)
    if args.build or both:
        failed |= _build(args, cfg, targets, report)
    if args.report:
        _write_report(args.report, report)
    return EXIT_FINDINGS if failed else EXIT_OK


def _resolve(args, targets, report: dict) -> bool:
    from aligner import indexurl
    from aligner.build import uvcheck
    from aligner.components import catalog
    from aligner.errors import InputError

    index, _ = indexurl.resolve()
    cat, cert = catalog(), indexurl.cert()
    results = []
    for t in targets:
        glibc = args.glibc or t.glibc
        try:
            res = uvcheck.resolve(t.image, t.platform, t.locked, cat, index, glibc, cert, no_build=args.no_build,
                                  offline=args.offline)
        except uvcheck.UvError as exc:
            raise InputError("--resolve", None, str(exc)) from None
        results.append(res)
        mark = "ok" if res.ok else "FAILS"
        print(f"resolve {t.image} ({t.platform}, Python {res.python}, glibc {glibc}): {mark}: {res.detail.splitlines()[0] if res.ok else ''}"
              .rstrip(": "), file=sys.stderr)
        if not res.ok:
            print(f"  {' '.join(res.requirements)}", file=sys.stderr)
            for line in res.detail.splitlines():
                print(f"  {line}", file=sys.stderr)
    report["resolve"] = results
    bad = [r for r in results if not r.ok]
    print(f"resolve: {len(results) - len(bad)} of {len(results)} image/platform sets install together",
          file=sys.stderr)
    return bool(bad)


def _build(args, cfg, targets, report: dict) -> bool:
    import shutil
    import tempfile

    from rich.console import Console

    from aligner import indexurl
    from aligner.build import docker, report as show, verify
    from aligner.errors import InputError

    host = verify.host_platform()
    try:
        engine = docker.find(args.docker, need_buildx=args.builder == "bake")
    except docker.EngineError as exc:
        raise InputError("docker", None, str(exc)) from None
    if not args.platform:  # this host's platform, where the image lists it; else the image's first
        by_image = {}
        for t in targets:
            by_image.setdefault(t.image, []).append(t)
        targets = [next((t for t in ts if t.platform == host), ts[0]) for ts in by_image.values()]
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="aligner-verify-"))
    sources = verify.host_secrets(pip_cert=indexurl.cert()) if args.host_secrets else {}
    secrets = verify.Secrets(sources, args.secret)
    console = Console(stderr=True)
    try:
        with _Progress(console) as status:
            if args.builder == "bake":
                results = verify.run_bake(engine, targets, cfg.root, logs, secrets.args, status)
            else:
                results = verify.run(engine, targets, cfg.root, logs, args.jobs, secrets.args, status, args.no_cache)
    except KeyboardInterrupt:
        if not args.logs:  # our own temporary folder: nobody will be told where it is
            shutil.rmtree(logs, ignore_errors=True)
        raise
    finally:
        secrets.close()
    show.text(results, Console(file=sys.stdout, width=max(100, Console().width)))
    print(f"build logs: {logs}", file=sys.stderr)
    report["build"] = results
    return not all(r.ok for r in results)


class _Progress:
    """Live progress: a rich table of image states on a terminal; one plain line per change
    elsewhere (CI logs, pipes)."""

    def __init__(self, console):
        self.console, self.states, self.live = console, {}, None

    def __enter__(self):
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(self._table(), console=self.console, transient=True, refresh_per_second=4)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.__exit__(*exc)

    def _table(self):
        from rich.table import Table

        table = Table(show_header=False, box=None)
        for (image, plat), text in self.states.items():
            table.add_row(f"[bold]{image}[/]", plat, text)
        return table

    def __call__(self, t, text: str) -> None:
        self.states[(t.image, t.platform)] = text
        if self.live:
            self.live.update(self._table())
        else:
            self.console.print(f"[bold]{t.image}[/] ({t.platform}): {text}", highlight=False)


def _write_report(path: str, report: dict) -> None:
    from aligner.build import report as show
    from aligner.atomic import atomic_write

    build, resolve = report.get("build", []), report.get("resolve", [])
    text = show.to_json(build, resolve) if path.endswith(".json") else show.markdown(build, resolve)
    atomic_write(Path(path).resolve(), text.encode("utf-8"))
