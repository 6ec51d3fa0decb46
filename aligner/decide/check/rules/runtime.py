"""The image's Python (AL004), CUDA (AL005) and GPU architectures (AL006) against what is pinned and targeted."""

from __future__ import annotations

from typing import Iterator

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from aligner.know import archs, facts
from aligner.decide.check.model import Finding
from aligner.decide.check.registry import Context, distinct, git_spans, rule
from aligner.relate import cudavar
from aligner.relate.images import Image
from aligner.know.markers import applies, environments
from aligner.know.versions import cuda_minor, cuda_tuple, exact_version, runtime_cuda, torch_cuda, variant_major


@rule("AL004")
def python_mismatch(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        minors = {}
        for v in img.pythons:
            minors.setdefault(".".join(v.version.split(".")[:2]), v)
        if len(minors) > 1:
            first, *rest = list(minors.values())
            for v in rest:
                yield ctx.find("AL004", v.path, v.line, v.column,
                               f"Python {v.version} here, but {first.version} at {first.origin}: one image, two Pythons")
        py = img.python()
        if py is None:
            continue
        for comp in sorted({p.component for p in img.pins()}):
            for pin in distinct(img.exact(comp)):
                rel = ctx.release(comp, pin.version)
                if rel and rel.requires_python and not SpecifierSet(rel.requires_python).contains(py.version, True):
                    yield ctx.find("AL004", pin.path, pin.line, pin.column,
                                   f"{comp} {pin.version} requires Python {rel.requires_python}; "
                                   f"the image has {py.version} ({py.origin})")
                elif rel and pin.kind == "pip" and not rel.installs_on(py.version):
                    yield ctx.find("AL004", pin.path, pin.line, pin.column,
                                   f"{comp} {pin.version} has wheels only for {', '.join(rel.pythons)} and no sdist; "
                                   f"the image has Python {py.version} ({py.origin})")


def _torch_cuda(ctx: Context, img: Image):
    """(CUDA of the torch wheels, the pin it is read from, how) or None."""
    # a torch built from source (git) uses the image's own CUDA; a cu index or backend says its build
    # the torch pip installs: an ARG no install uses says nothing, and one a `git clone` uses is built
    # from pytorch/pytorch in the image, against the image's own CUDA
    source = git_spans(img.files)
    torch_pins = [p for p in img.exact("torch") if p.kind == "pip" and (p.path, p.start, p.end) not in source]
    if img.exact("torch") and not torch_pins:
        return None
    for pin in torch_pins:
        if pin.cuda == "cpu":
            return None
        if pin.cuda:
            return pin.cuda, pin, f"torch {pin.version} from the cu{pin.cuda.replace('.', '')} index"
    candidates = [(p, p.version) for p in torch_pins]
    for engine in ctx.cat.with_role("engine", "kv-cache"):  # each names the torch it installs
        for pin in img.exact(engine):
            if pin.cuda and pin.cuda != "cpu":
                return pin.cuda, pin, f"{engine} {pin.version}'s torch from the cu{pin.cuda.replace('.', '')} index"
            rel = ctx.release(engine, pin.version)
            for req in rel.requirements("torch") if rel and rel.requires_dist else ():
                if req.marker is None and exact_version(req.specifier):
                    candidates.append((pin, exact_version(req.specifier)))
    for pin, version in candidates:
        local = torch_cuda(version)
        if local:
            return local, pin, f"torch {version}"
        rel = ctx.release("torch", version)
        python = img.python().version if img.python() else None
        envs = environments(img.platforms, python)
        for req in rel.requirements() if rel and rel.requires_dist else ():
            if not applies(req.marker, envs):
                continue  # torch 2.8's runtime wheel is for x86_64 only: its aarch64 wheels carry no CUDA
            wheel = runtime_cuda(req)
            if wheel:
                via = "" if pin.component == "torch" else f" (as {pin.component} {pin.version} requires)"
                return wheel, pin, f"torch {version}{via}, whose wheels need {req.name}{req.specifier}"
    return None


@rule("AL005")
def cuda_mismatch(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        base = img.cuda()
        if base is None:
            continue
        var = cudavar.variable(img, ctx.cfg.root, ctx.cfg.path.name if ctx.cfg.path else "aligner.toml")
        for need in var.needs:
            if need.kind == "gpu" and not need.specifier.contains(base.version, prereleases=True):
                # built for an older CUDA, the image's code can still reach the GPU as PTX the driver compiles
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"the base image's CUDA {base.version} is older than {need.what} needs: "
                               f"{need.text}", severity="warning")
        for pin in distinct([p for p in img.pins() if p.kind == "pip" and not p.conditional]):
            variant = variant_major(pin.name)
            if variant and variant[0] != cuda_tuple(base.version)[0]:
                yield ctx.find("AL005", pin.path, pin.line, pin.column,
                               f"{pin.name} is built for CUDA {variant[0]}, but the base image's CUDA is {base.version} "
                               f"({base.origin})")
        for df in img.files:  # builds for one CUDA major that aligner pins no version of (cupy-cuda12x)
            for v in df.variants:
                if not v.conditional and v.major != cuda_tuple(base.version)[0]:
                    yield ctx.find("AL005", v.path, v.line, v.column,
                                   f"{v.name} is built for CUDA {v.major}, but the base image's CUDA is "
                                   f"{base.version} ({base.origin})")
        found = _torch_cuda(ctx, img)
        if found:
            wheel, pin, how = found
            b, w = cuda_tuple(base.version), cuda_tuple(wheel)
            if b[0] != w[0]:
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"the base image's CUDA {base.version} is major {b[0]}, but {how} (CUDA {wheel}, "
                               f"major {w[0]}; pinned at {ctx.at(pin)})")
            elif b[:2] < w[:2] and var.compiles:
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"the base image's CUDA {base.version} is older than {how} (CUDA {wheel}), and "
                               f"{var.compiles} compiles against that torch with the base's nvcc {cuda_minor(base.version)}",
                               severity="warning")
            elif b[:2] != w[:2]:
                # torch's own extension builder accepts a minor skew ("Most likely this shouldn't be a
                # problem", torch/utils/cpp_extension.py): a notice, not a finding
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"the base image's CUDA {base.version} differs in minor from {how} (CUDA {wheel}): "
                               "works through minor-version compatibility, but extensions built in the image use "
                               f"{cuda_minor(base.version)}", severity="info")
        driver = img.config.driver if img.config else None
        if driver:
            need = facts.driver_floor(base.version)
            if need and Version(need[0]) > Version(driver):
                yield ctx.find("AL005", base.path, base.line, base.column,
                               f"CUDA {base.version} needs a Linux driver >= {need[0]} ({need[1]}), the target host "
                               f"has {driver}")


@rule("AL006")
def gpu_arch(ctx: Context) -> Iterator[Finding]:
    for img in ctx.images:
        cuda = img.cuda().version if img.cuda() else None
        arch_row = facts.arch_row(cuda) if cuda else None
        targets_gpus = []
        for name in img.gpus:
            row = facts.gpu(name)
            if row:
                targets_gpus.append((name, row["compute"]))
        for df in img.files:
            roots = set()
            for var in df.variables:
                if var.value is None or var.unknown or not archs.ARCH_VARIABLES.fullmatch(var.name):
                    continue  # `${LIST/ 10.0/}`, `$(…)`: what the build computes is not read as arch names
                if (var.value_line, var.value) in roots:
                    continue  # `ENV TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST}`: one value, one finding
                roots.add((var.value_line, var.value))
                targets, bad = archs.parse(var.value)
                line = var.value_line or var.line
                col = var.span.column if var.span else 1
                for raw in bad:
                    yield ctx.find("AL006", df.path, line, col, f"{var.name}: {raw!r} is not a CUDA architecture")
                for t in targets:
                    if archs.compilable(t, arch_row) is False:
                        hint = " (family-specific `f` targets need CUDA 12.9 or newer)" if t.suffix == "f" else ""
                        yield ctx.find("AL006", df.path, line, col,
                                       f"{var.name}: CUDA {cuda} cannot compile for {t.compute}{hint} "
                                       f"(rules/cuda.toml, CUDA {arch_row['cuda']})")
                for name, compute in targets_gpus:
                    if targets and not any(t.covers(archs.compute_tuple(compute)) for t in targets):
                        yield ctx.find("AL006", df.path, line, col,
                                       f"{var.name}={var.value!r} leaves out the target GPU {name} "
                                       f"(compute capability {compute}, rules/gpus.toml)")
