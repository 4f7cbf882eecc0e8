"""What an exporter returns: :class:`Export`, a command with its environment, files and notes."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_VAR = re.compile(
    r"^[A-Za-z0-9_./:,=@+-]*(\$\{(?:HEAD_IP|NODE_RANK|NODE[0-9]+_IP)\}[A-Za-z0-9_./:,=@+-]*)+$"
)


def quote(word: str) -> str:
    """Shell-quote ``word``, leaving the scripts' own ``${VAR}`` references (the head node's
    address, node addresses and ranks) to expand; every other word is a literal."""
    return f'"{word}"' if _VAR.match(word) else shlex.quote(word)


def shell_line(argv: tuple[str, ...] | list[str], env: Mapping[str, str] | None = None) -> str:
    """``argv`` as one shell line, quoted, one flag per continuation line when it is long."""
    prefix = [f"{k}={quote(v)}" for k, v in (env or {}).items()]
    words = [quote(w) for w in argv]
    one = " ".join([*prefix, *words])
    if len(one) <= 100:
        return one
    lead = 1
    while lead < len(words) and not words[lead].startswith("-"):
        lead += 1  # the command and its positional words stay on the first line
    lines = [" ".join([*prefix, *words[:lead]])]
    words = words[lead:]
    i = 0
    while i < len(words):
        # keep "--flag value" together on one line
        if i + 1 < len(words) and words[i].startswith("-") and not words[i + 1].startswith("-"):
            lines.append(f"{words[i]} {words[i + 1]}")
            i += 2
        else:
            lines.append(words[i])
            i += 1
    return " \\\n    ".join(lines)


@dataclass(frozen=True)
class Step:
    """One command to run, and where: ``role`` is ``serve``, ``head`` or ``worker``."""

    role: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    comment: str = ""


@dataclass(frozen=True)
class Export:
    """A launch configuration. ``argv`` is the serving command (on the head node when there
    are several); ``steps`` every command in order, per node role; ``files`` file name ->
    content (YAML, scripts, Modelfile); ``settings`` the checked numbers it was built from."""

    engine: str
    target: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    files: Mapping[str, str]
    notes: tuple[str, ...]
    steps: tuple[Step, ...]
    settings: Mapping[str, Any]
    main_file: str = "serve.sh"

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "target": self.target,
            "argv": list(self.argv),
            "env": dict(self.env),
            "files": dict(self.files),
            "notes": list(self.notes),
            "steps": [
                {"role": s.role, "argv": list(s.argv), "env": dict(s.env), "comment": s.comment}
                for s in self.steps
            ],
            "settings": dict(self.settings),
            "main_file": self.main_file,
        }

    def text(self) -> str:
        """What ``deepfit export`` prints by default: the main file, notes as comments."""
        return self.files[self.main_file]
