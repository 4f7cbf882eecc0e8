"""A small YAML emitter for the configs deepfit writes (no runtime dependency on PyYAML).

It covers exactly what the exporters produce: mappings, lists, strings, integers, floats,
booleans and None. Strings that YAML could read as something else (``yes``, ``1e3``,
``null``, ``"a: b"``) are double-quoted as JSON strings, which YAML 1.2 reads back verbatim;
multi-line strings become literal blocks (``|``) where that gives them back exactly, and
double-quoted strings otherwise. The tests parse every file with PyYAML
and compare it with the data it came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_/.][A-Za-z0-9_./@+=-]*$")
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_RESERVED = frozenset(
    {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "nan", "inf"}
)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower().lstrip(".") not in _RESERVED:
        return text
    return json.dumps(text)


def _block(text: str, indent: int) -> str:
    pad = " " * indent
    keep = "|" if text.endswith("\n") else "|-"
    body = "\n".join(pad + line if line else "" for line in text.rstrip("\n").split("\n"))
    return f"{keep}\n{body}"


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}"]
        out: list[str] = []
        for key, item in value.items():
            out.extend(_entry(pad + _scalar(str(key)) + ":", item, indent))
        return out
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            out.extend(_entry(pad + "-", item, indent, in_list=True))
        return out
    return [pad + _scalar(value)]


def _blockable(text: str) -> bool:
    """Whether a literal block (``|``) gives ``text`` back exactly: several lines, the first
    not indented (YAML would take its indent for the block's), at most one final newline,
    and nothing but printable characters and tabs."""
    return (
        "\n" in text
        and not text.startswith((" ", "\t", "\n"))
        and not text.endswith("\n\n")
        and not _UNPRINTABLE.search(text)
        and not any(line.endswith((" ", "\t")) for line in text.split("\n"))
    )


def _entry(head: str, item: Any, indent: int, in_list: bool = False) -> list[str]:
    nested = isinstance(item, (Mapping, list, tuple)) and len(item) > 0
    if not nested:
        if isinstance(item, str) and _blockable(item):
            return [f"{head} {_block(item, indent + 2)}"]
        text = (
            "{}" if isinstance(item, Mapping) else "[]" if isinstance(item, (list, tuple)) else ""
        )
        return [f"{head} {text or _scalar(item)}"]
    if in_list and isinstance(item, Mapping):
        # "- key: value" with the rest of the mapping aligned under the first key
        inner = _lines(item, indent + 2)
        return [f"{head} {inner[0].lstrip()}", *inner[1:]]
    return [head, *_lines(item, indent + 2)]


def dump_yaml(data: Mapping[str, Any]) -> str:
    """``data`` as block-style YAML text ending in a newline."""
    return "\n".join(_lines(data, 0)) + "\n"
