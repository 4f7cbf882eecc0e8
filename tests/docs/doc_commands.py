"""The commands README.md and docs/*.md show, extracted from their text.

Fenced shell blocks give command lines (``\\`` continuations joined, trailing comments
dropped, ``a && b`` chains split into their steps); inline code that is a whole ``deepfit``
command line (it parses) counts too. Fenced ``python`` blocks are programs. Each command
is either run or skipped for a stated reason: it needs a server, the network or a GPU, or it
is a usage synopsis (placeholders such as MODEL or [--flag]) rather than a command.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"(?<!`)`(deepfit [^`\n]+)`(?!`)")
_COMMENT = re.compile(r"\s+#.*$")
_PLACEHOLDER = re.compile(r"\b(MODEL|GPU|ENGINE|TOKENS|URL|RESULTS|PCT|NAME|N)\b|\[|\.\.\.")

#: (pattern on the command line, why it is not run here)
SKIPS = (
    (r"^(pip|python3? -m venv|\. \.venv)", "installs packages (needs the network)"),
    (r"^pip download|^tar ", "downloads and builds llama.cpp (needs the network)"),
    (r"^deepfit (bench|eval) http", "needs a running OpenAI-compatible server"),
    (r"^deepfit serve", "starts the web server (tests/web drive it)"),
    (r"--hub\b", "fetches a config from the Hugging Face Hub (needs the network)"),
    (r"^deepfit monitor", "samples an NVIDIA GPU through NVML (needs a GPU)"),
    (r"^deepfit calibrate", "calibrates on the results of `deepfit bench` against a server"),
    (r"^deepfit eval --compare", "compares two `deepfit eval` runs against servers"),
    (r"benchmarks/cpu_e2e\.py|pytest -m e2e", "serves llama.cpp built from source (network)"),
    (r"^pytest$", "the test suite itself"),
)


@dataclass(frozen=True)
class DocCommand:
    doc: str  # file name, e.g. README.md
    line: int  # 1-based line of the block or inline mention
    text: str  # the command line as written (comments dropped)

    @property
    def skip(self) -> str | None:
        for pattern, why in SKIPS:
            if re.search(pattern, self.text):
                return why
        if self.text.startswith("deepfit ") and _PLACEHOLDER.search(self.text):
            return "usage synopsis (placeholders), not a command"
        return None

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}:{self.text[:60]}"


def _lines(block: str) -> list[tuple[int, str]]:
    """Logical lines of a shell block with their offsets: continuations joined."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for i, raw in enumerate(block.splitlines()):
        line = raw.rstrip()
        if not pending:
            start = i
        if line.endswith("\\"):
            pending += _COMMENT.sub("", line[:-1]) + " "
            continue
        text = (pending + _COMMENT.sub("", line)).strip()
        pending = ""
        if text and not text.startswith("#"):
            out.append((start, " ".join(text.split())))
    return out


def _steps(line: str) -> list[str]:
    """``a && b`` -> [a, b]; a redirect stays with its step."""
    return [part.strip() for part in line.split("&&") if part.strip()]


def _parses(text: str) -> bool:
    from deepfit.cli.main import build_parser
    from deepfit.errors import DeepfitError

    try:
        build_parser().parse_args(shlex.split(text)[1:])
    except (DeepfitError, SystemExit, ValueError):
        return False
    return True


def shell_commands() -> list[DocCommand]:
    found: list[DocCommand] = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            lang, block = match.group(1), match.group(2)
            if lang not in ("", "bash", "sh", "shell", "console"):
                continue
            first = text[: match.start(2)].count("\n") + 1
            for offset, line in _lines(block):
                if not re.search(r"(^|&&\s*)(deepfit|pip|python3?|pytest|tar|\.|[A-Z_]+=)", line):
                    continue  # a layout sketch or output, not a command
                for step in _steps(line):
                    found.append(DocCommand(path.name, first + offset, step))
        for match in _INLINE.finditer(text):
            cmd = " ".join(match.group(1).split())
            bare = len(cmd.split()) == 2 and cmd.split()[1] not in ("models", "gpus", "validate")
            if not bare and _parses(cmd):  # a bare `deepfit export` names the command
                found.append(DocCommand(path.name, text[: match.start()].count("\n") + 1, cmd))
    unique: dict[str, DocCommand] = {}
    for cmd in found:
        unique.setdefault(cmd.text, cmd)
    return list(unique.values())


def python_blocks() -> list[DocCommand]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match.group(1) == "python":
                line = text[: match.start(2)].count("\n") + 1
                found.append(DocCommand(path.name, line, match.group(2)))
    return found
