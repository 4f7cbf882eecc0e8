"""Entry point of the ``deepfit`` command: argument parsing, dispatch, the one error handler.

Bad input of any kind (unknown names, malformed configs, impossible arguments, argparse's
own complaints) ends as one line on stderr with a hint and exit code 2. A traceback is shown
only for bugs, and only with ``DEEPFIT_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import BadInputError, DeepfitError
from . import commands


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise BadInputError(message, f"see `{self.prog} --help`")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object (SI units)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="deepfit",
        description="What hardware an LLM needs, and what it will do on it.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"deepfit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("models", help="list the bundled model catalogue")
    _add_json(p)
    p.set_defaults(func=commands.models)

    p = sub.add_parser("gpus", help="list the GPU catalogue")
    _add_json(p)
    p.set_defaults(func=commands.gpus)

    p = sub.add_parser("info", help="a model's architecture and exact parameter counts")
    p.add_argument(
        "model",
        metavar="MODEL",
        help="catalogue name or alias, Hugging Face id, or path to a config.json",
    )
    p.add_argument(
        "--hub",
        action="store_true",
        help="fetch config.json from the Hugging Face Hub if the id is not bundled",
    )
    _add_json(p)
    p.set_defaults(func=commands.info)
    return parser


def _fail(err: DeepfitError) -> int:
    line = f"deepfit: error: {err.message}"
    if err.hint:
        line += f" (hint: {err.hint})"
    print(" ".join(line.split()), file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    debug = os.environ.get("DEEPFIT_DEBUG", "") not in ("", "0")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
        code: int = args.func(args)
        return code
    except DeepfitError as err:
        if debug:
            raise
        return _fail(err)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line unless debugging
        if debug:
            raise
        print(
            f"deepfit: internal error: {type(exc).__name__}: {exc} "
            "(hint: rerun with DEEPFIT_DEBUG=1 and report the traceback)",
            file=sys.stderr,
        )
        return 1


def run() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    run()
