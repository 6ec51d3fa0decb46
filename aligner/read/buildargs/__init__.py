"""Build arguments where they really come from: the scripts, compose files and workflows that run a build.

Each reader gives `Invocation`s: one build of one Dockerfile with the `--build-arg` values it passes,
each value a `Traced` whose pieces point into the source file (Piece.origin), so that the Dockerfile
reader can take it as the ARG's value and a pin it makes is located, and rewritten, where it is set.
"""

from aligner.read.buildargs.model import BuildArg, Invocation

__all__ = ["BuildArg", "Invocation"]
