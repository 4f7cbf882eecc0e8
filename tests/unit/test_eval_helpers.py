"""Helpers of the eval tests: a loopback server that answers from a dict, a tiny local task
(lm-eval YAML + the JSONL the built-in evaluator reads), and the CLI as `deepfit` runs it."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from deepfit.cli.eval_cmd import add_eval_parser
from deepfit.errors import DeepfitError

CAPITALS = {
    "France": "Paris",
    "Japan": "Tokyo",
    "Italy": "Rome",
    "Egypt": "Cairo",
    "Peru": "Lima",
}


def write_task(root: Path, name: str = "tiny_capitals") -> Path:
    """A 5-question capital-city task in ``root``: ``name.jsonl`` and ``name.yaml``."""
    root.mkdir(parents=True, exist_ok=True)
    data = root / f"{name}.jsonl"
    rows = [
        {"prompt": f"Q: What is the capital of {country}?\nA:", "answer": city}
        for country, city in CAPITALS.items()
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    # datasets resolves data_files against the working directory: use an absolute path
    (root / f"{name}.yaml").write_text(
        f"""task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 16
  do_sample: false
filter_list:
  - name: strip
    filter:
      - function: remove_whitespace
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""",
        encoding="utf-8",
    )
    return root


def _handler(answers: dict[str, str], mode: str, log: list[dict[str, Any]]) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if mode == "html":
                self._send(404, b"<html>no such page</html>", "text/html")
            else:
                models = {"object": "list", "data": [{"id": "tiny", "object": "model"}]}
                self._send(200, json.dumps(models).encode())

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            log.append(body)
            if mode == "die" and len(log) > 2:  # a server that breaks mid-run
                self._send(503, b'{"error": "overloaded"}')
                return
            chat = self.path.endswith("/chat/completions")
            prompts = body["prompt"] if not chat else [body["messages"][-1]["content"]]
            prompts = prompts if isinstance(prompts, list) else [prompts]
            choices = []
            for i, p in enumerate(prompts):
                text = next((" " + a for k, a in answers.items() if k in p), " ?") + "\nQ: x"
                for stop in body.get("stop") or []:  # as real servers do
                    text = text.split(stop)[0]
                msg = (
                    {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
                )
                choices.append({"index": i, "finish_reason": "stop", **msg})
            self._send(200, json.dumps({"object": "text_completion", "choices": choices}).encode())

    return Handler


@contextmanager
def answer_server(
    answers: dict[str, str], mode: str = "ok"
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback OpenAI-style server answering ``answers[key]`` for prompts holding key:
    (base URL, request log). ``mode``: ``ok``, ``html`` (not OpenAI), ``die`` (503 after
    two requests)."""
    log: list[dict[str, Any]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answers, mode, log))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nobody listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def cli(argv: Sequence[str]) -> int:
    """``deepfit eval`` as main runs it: a DeepfitError is one line on stderr and exit 2."""
    parser = argparse.ArgumentParser(prog="deepfit")
    sub = parser.add_subparsers(dest="command")
    add_eval_parser(sub)
    args = parser.parse_args(list(argv))
    try:
        code: int = args.func(args)
        return code
    except DeepfitError as err:
        print(f"deepfit: error: {err}", file=sys.stderr)
        return 2


def records(path: Path, kind: str) -> list[dict[str, Any]]:
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return [x for x in lines if x.get("type") == kind]


DEPLOYMENT = ["--model", "qwen2.5-7b", "--gpu", "H100", "--engine", "vllm"]
