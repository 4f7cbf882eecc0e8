"""Rich markup in a model id (here from a config's ``_name_or_path``) is shown as written:
it once crashed the tables ("closing tag '[/]' has nothing to close") or styled them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deepfit.cli.main import main

NAME = "[/][bold]B[/bold][link=http://example.com]L"


@pytest.mark.parametrize(
    "args",
    [
        ["info"],
        ["memory", "--gpu", "L4"],
        ["perf", "--gpu", "L4", "--input-len", "10", "--output-len", "10"],
        ["train", "--gpu", "L4", "--gpus", "1"],
    ],
)
def test_markup_in_model_id_is_literal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    config = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
        "_name_or_path": NAME,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    code = main([args[0], str(tmp_path), *args[1:]])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert NAME in out.out.replace("\n", "")
