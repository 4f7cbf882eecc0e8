"""Hostile model ids and paths through every exporter: the generated scripts are run by a
real shell with stub commands on PATH, and nothing in the text ever executes.

Each payload would create a file if the shell ran it; the stubs record the arguments they
receive, which must hold the hostile text verbatim (quoted, not dropped)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import deepfit
from deepfit.errors import BadInputError
from deepfit.export import TARGETS, export_config
from deepfit.export.deployment import exportable
from deepfit.models.loader import model_from_config

BASH = shutil.which("bash")
TINY = {
    "model_type": "llama",
    "hidden_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 512,
    "vocab_size": 1000,
    "max_position_embeddings": 4096,
}
STUBS = ("vllm", "python", "trtllm-serve", "llama-server", "ray", "sky", "mpirun", "ollama")


def payloads(trap: Path) -> list[str]:
    return [
        f"org/evil$(touch {trap}/p1)",
        f"org/evil`touch {trap}/p2`",
        f"org/evil'; touch {trap}/p3; '",
        f"org/evil${{IFS}}$(touch${{IFS}}{trap}/p4)",
        f'org/evil"$(touch {trap}/p5)"',
        f"org/evil\nDEEPFIT_EOF\ntouch {trap}/p6\nDEEPFIT_EOF",
        f"org/evil;touch {trap}/p7 #",
    ]


def _stub_dir(tmp: Path) -> Path:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    for name in STUBS:
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "{tmp}/argv"\n')
        stub.chmod(0o755)
    return bin_dir


def _run(script: str, tmp: Path, bin_dir: Path) -> None:
    work = tmp / "work"
    work.mkdir(exist_ok=True)
    (work / "serve.sh").write_text(script)
    syntax = subprocess.run([BASH, "-n", "serve.sh"], cwd=work, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "NODE_RANK": "0", "HEAD_IP": "10.0.0.1"}
    subprocess.run([BASH, "serve.sh"], cwd=work, env=env, capture_output=True, timeout=30)


def _exports(name: str) -> list[tuple[str, str, dict[str, str], str]]:
    """(engine, target, files, model path) for every exporter that takes this model."""
    model = model_from_config(dict(TINY), name)
    out = []
    for engine in exportable():
        for target in TARGETS:
            if target != "shell" and engine != "vllm":
                continue
            for given in (None, name):
                try:
                    exp = export_config(
                        model,
                        deepfit.load_gpu("H100"),
                        engine=engine,
                        target=target,
                        context=2048,
                        concurrency=1,
                        model_path=given,
                    )
                except BadInputError as err:  # refusing a hostile path is also safe
                    assert "control character" in err.message
                    continue
                out.append((engine, target, exp.files, exp.settings["model_path"]))
    return out


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_hostile_model_ids_never_execute(tmp_path: Path) -> None:
    trap = tmp_path / "trap"
    trap.mkdir()
    bin_dir = _stub_dir(tmp_path)
    seen = 0
    for name in payloads(trap):
        for engine, target, files, path in _exports(name):
            for file, text in files.items():
                if file.endswith(".yaml"):
                    yaml.safe_load(text)  # well-formed whatever the id
                if file == "Modelfile":
                    directives = [ln.split()[0] for ln in text.splitlines() if ln]
                    assert directives == ["#", "FROM", "PARAMETER", "PARAMETER"], text
            (tmp_path / "argv").unlink(missing_ok=True)
            _run(files["serve.sh"], tmp_path, bin_dir)
            assert not list(trap.iterdir()), (engine, target, name)
            argv = (tmp_path / "argv").read_text() if (tmp_path / "argv").exists() else ""
            if "\n" not in path and "placeholder" not in files["serve.sh"]:
                assert path in argv.splitlines(), (engine, target, name)
                seen += 1
    assert seen > 10  # the serve commands really ran, with the hostile words as arguments


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_hostile_name_or_path_in_a_config_file(tmp_path: Path) -> None:
    trap = tmp_path / "trap"
    trap.mkdir()
    bin_dir = _stub_dir(tmp_path)
    for n, name in enumerate(payloads(trap)):
        cfg = tmp_path / f"c{n}" / "config.json"
        cfg.parent.mkdir()
        cfg.write_text(json.dumps({**TINY, "_name_or_path": name}))
        model = deepfit.load_model(str(cfg))
        exp = export_config(model, deepfit.load_gpu("H100"), context=2048, concurrency=1)
        _run(exp.files["serve.sh"], tmp_path, bin_dir)
        for engine in ("llamacpp",):
            other = export_config(
                model, deepfit.load_gpu("H100"), engine=engine, context=2048, concurrency=1
            )
            _run(other.files["serve.sh"], tmp_path, bin_dir)
    assert not list(trap.iterdir())


def test_heredoc_marker_never_in_content() -> None:
    from deepfit.export.script import heredoc

    content = "a\nDEEPFIT_EOF\nDEEPFIT_EOF_1\nb\n"
    block = heredoc("f", content)
    marker = block.split("<<'", 1)[1].split("'", 1)[0]
    assert marker not in content.splitlines()
    assert block.endswith(f"\n{marker}\n")


def test_yaml_strings_round_trip_exactly() -> None:
    from deepfit.export.yamlout import dump_yaml

    texts = [
        "  indented\nsecond",
        "a\n\n\n",
        "trailing \nspace",
        "tab\there\n",
        "x\x85y\nz",
        "plain\nblock\n",
        "- list: no\n# comment",
        "$(touch x)\n`id`",
    ]
    for text in texts:
        assert yaml.safe_load(dump_yaml({"v": text, "w": [text]})) == {"v": text, "w": [text]}


def test_hostile_env_var_syntax_is_not_expanded() -> None:
    from deepfit.export.result import quote

    assert quote("${HEAD_IP}:6379") == '"${HEAD_IP}:6379"'
    for word in ("${HOME}/x", "${PATH}", "${HEAD_IP:-$(id)}"):
        assert quote(word).startswith("'"), word


def test_trap_payloads_would_run_unquoted(tmp_path: Path) -> None:
    """The payloads are real: run bare, they create the files the tests look for."""
    if BASH is None:
        pytest.skip("needs bash")
    trap = tmp_path / "trap"
    trap.mkdir()
    name = payloads(trap)[0]
    subprocess.run([BASH, "-c", f"echo {name}"], capture_output=True, env=dict(os.environ))
    assert list(trap.iterdir())
