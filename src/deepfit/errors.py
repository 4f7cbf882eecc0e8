"""The one exception tree of deepfit.

Every error a user can cause derives from :class:`DeepfitError` and carries a one-line
message plus a hint that says how to fix it. The CLI turns these into one line on stderr
and exit code 2; anything else is a bug and shows a traceback only with ``DEEPFIT_DEBUG=1``.

"Does not fit" and "no feasible plan" are answers, not bad input: they have their own
branch (:class:`InfeasibleError`) so callers can tell them apart.
"""

from __future__ import annotations


class DeepfitError(Exception):
    """Base of every error deepfit raises on purpose."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class BadInputError(DeepfitError):
    """The user gave something deepfit cannot use (exit code 2)."""


class UnknownModelError(BadInputError):
    """A model name, alias, id or path that resolves to nothing."""


class UnknownGpuError(BadInputError):
    """A GPU name that is not in the hardware catalogue."""


class UnknownEngineError(BadInputError):
    """An engine name that is in no engine folder (see deepfit/engines/)."""


class ConfigError(BadInputError):
    """A model config.json that is malformed, hostile or inconsistent."""


class UnsupportedArchitectureError(BadInputError):
    """A well-formed config of a model family deepfit does not know."""


class CatalogError(BadInputError):
    """A catalogue file (hardware, prices) that is malformed or lacks a needed number."""


class NotSupportedError(BadInputError):
    """A combination the hardware or engine cannot run (e.g. FP8 on an A100)."""


class OfflineError(BadInputError):
    """A network fetch was needed (a Hub id not bundled) but is not possible."""


class InfeasibleError(DeepfitError):
    """A valid question whose answer is "nothing fits" (not a user error)."""
