"""The rules of `aligner check`, a module per group; importing this package registers every one of them
(aligner.check.registry is the door, rules/codes.toml holds their pages)."""

from aligner.check.rules import imagetags, pinning, releases, requirements, runtime, suppression, upstream  # noqa: F401
from aligner.check.registry import AFTER_SUPPRESSION, RULES, Context

__all__ = ["AFTER_SUPPRESSION", "RULES", "Context"]
