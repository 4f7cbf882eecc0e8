"""A tiny OpenAI-compatible streaming server for the bench tests (standard library only).

    python tests/unit/measure_fake_server.py --ttft 0.02 --tpot 0.01 [--no-usage] [--log F]

Prints its port on the first stdout line. Each completion streams ``max_tokens`` chunks of
one token ("tok ") after ``--ttft`` seconds, ``--tpot`` seconds apart, then a usage chunk
(prompt_tokens = words in the prompt) and ``[DONE]``. Every finished request is appended
to ``--log`` as one JSON line, flushed, so a test can compare counts after killing it.
``/metrics`` serves a vLLM-style gauge of the requests in flight.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARGS = argparse.Namespace()
LOCK = threading.Lock()
STATE = {"running": 0, "finished": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # as real servers do: without it Nagle + delayed ACKs hold chunks back 40-200 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _json(self, obj: Any, code: int = 200) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._json({"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        elif self.path == "/metrics":
            text = (
                "# TYPE vllm:num_requests_running gauge\n"
                f'vllm:num_requests_running{{model_name="fake"}} {STATE["running"]}\n'
                'vllm:num_requests_waiting{model_name="fake"} 0\n'
                'vllm:kv_cache_usage_perc{model_name="fake"} 0.25\n'
            ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
        else:
            self._json({"error": "not found"}, 404)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        chat = self.path == "/v1/chat/completions"
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            self._json({"error": "not found"}, 404)
            return
        n = int(body.get("max_tokens", 16))
        text = body["messages"][-1]["content"] if chat else body["prompt"]
        with LOCK:
            STATE["running"] += 1
        try:
            self._stream(n, len(text.split()), chat, body)
        finally:
            with LOCK:
                STATE["running"] -= 1

    def _stream(self, n: int, prompt_tokens: int, chat: bool, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        time.sleep(ARGS.ttft)
        for i in range(n):
            if i:
                time.sleep(ARGS.tpot)
            choice = (
                {"index": 0, "delta": {"content": "tok "}} if chat else {"index": 0, "text": "tok "}
            )
            self._event({"choices": [choice]})
        want_usage = (body.get("stream_options") or {}).get("include_usage")
        if want_usage and not ARGS.no_usage:
            usage = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": n,
                "total_tokens": prompt_tokens + n,
            }
            self._event({"choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        with LOCK:
            STATE["finished"] += 1
            if ARGS.log:
                with open(ARGS.log, "a") as f:
                    f.write(
                        json.dumps({"prompt_tokens": prompt_tokens, "completion_tokens": n}) + "\n"
                    )
                    f.flush()

    def _event(self, obj: Any) -> None:
        self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
        self.wfile.flush()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ttft", type=float, default=0.02)
    ap.add_argument("--tpot", type=float, default=0.01)
    ap.add_argument("--no-usage", action="store_true")
    ap.add_argument("--log", default=None)
    ap.parse_args(namespace=ARGS)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
