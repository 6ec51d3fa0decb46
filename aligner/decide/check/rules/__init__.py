"""The rules of `aligner check`, a module per group; importing this package registers every one of them
(aligner.decide.check.registry is the door, rules/codes.toml holds their pages)."""

from aligner.decide.check.rules import (imagetags, pinning, releases, requirements, runtime, suppression, ucx,  # noqa: F401
                                         upstream)
from aligner.decide.check.registry import AFTER_RULES, AFTER_SUPPRESSION, RULES, Context

__all__ = ["AFTER_RULES", "AFTER_SUPPRESSION", "RULES", "Context"]
