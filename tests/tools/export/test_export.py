"""Exports of a really trained model: llama.cpp and transformers generate what torch does."""

import json

import numpy as np
import pytest

from magnet.tools.bitnet.train import TrainRequest, train
from magnet.tools.errors import ExportError, RunDirError
from magnet.tools.export.export import export
from magnet.tools.export.parity import parity
from tests.conftest import TINY


def trained(path, task="lm", data="shakespeare", linear="ternary", steps=40, extra=None):
    request = TrainRequest(
        task=task,
        data=data,
        linear=linear,
        steps=steps,
        out=path,
        settings={**TINY, **(extra or {})},
    )
    train(request)
    return path


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    # Trained enough (~5 s) that greedy text varies: parity on one repeated token says little.
    run = tmp_path_factory.mktemp("lm") / "run"
    return trained(run, steps=300, extra={"lr": 0.005, "seq_len": 64, "log_every": 50})


@pytest.mark.parametrize("linear_type", ["tq2_0", "tq1_0"])
def test_gguf_generates_what_torch_generates(lm, tmp_path, linear_type):
    done = export(lm, "gguf", tmp_path / f"m-{linear_type}.gguf", linear_type)
    report = parity(lm, "ROMEO:\nBut soft", gguf=done.path)
    gguf = report.backends["gguf"]
    assert report.ok, report.summary()
    assert len(set(report.torch)) >= 4
    assert gguf.agree >= 16  # a near tie this early would say the model itself is broken
    assert gguf.max_logprob_diff < 0.1


def test_ternary_projections_take_a_seventh_of_f16_or_less(lm, tmp_path):
    from gguf import GGUFReader

    def projection_bytes(path):
        tensors = GGUFReader(path).tensors
        names = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
        return sum(
            int(t.n_bytes)
            for t in tensors
            if t.name.startswith("blk.") and t.name.split(".")[2] in names
        )

    sizes = {
        t: projection_bytes(export(lm, "gguf", tmp_path / f"{t}.gguf", t).path)
        for t in ("tq2_0", "tq1_0", "f16")
    }
    assert sizes["tq2_0"] * 7 <= sizes["f16"] and sizes["tq1_0"] < sizes["tq2_0"]
    reader = GGUFReader(tmp_path / "tq2_0.gguf")
    assert reader.fields["general.architecture"].contents() == "bitnet"
    assert len(reader.fields["tokenizer.ggml.tokens"].contents()) == 256


def test_hugging_face_export_loads_in_transformers_and_matches(lm, tmp_path):
    done = export(lm, "hf", tmp_path / "hf")
    config = json.loads((done.path / "config.json").read_text())
    assert (
        config["model_type"] == "bitnet"
        and config["quantization_config"]["quantization_mode"] == "online"
    )
    report = parity(lm, "ROMEO:\nBut soft", hf=done.path)
    assert report.backends["hf"].agree == report.n  # the same quantizers: token for token
    assert report.backends["hf"].max_logprob_diff < 1e-4


def test_a_bpe_model_tokenizes_the_same_in_llama_cpp(tmp_path):
    run = trained(tmp_path / "bpe", extra={"tokenizer": "bpe", "bpe_vocab": 512, "seq_len": 64})
    done = export(run, "gguf")
    assert done.path == run / "export" / "model-tq2_0.gguf"
    # Tokenizing differently would show as a difference from the first token on.
    report = parity(run, "KING HENRY: Now, lords, what say you?", n=8, gguf=done.path)
    assert report.ok, report.summary()


def test_an_fp_model_exports_f16_and_says_so(tmp_path):
    run = trained(tmp_path / "fp", linear="fp")
    done = export(run, "gguf")
    assert done.linear_type == "f16" and "no ternary weights" in done.notes[0]
    report = parity(run, "ROMEO:", n=8, gguf=done.path)
    assert report.backends["gguf"].agree >= 4


def test_bad_runs_are_clear_errors(tmp_path, lm):
    with pytest.raises(RunDirError, match="no checkpoint.safetensors"):
        broken = tmp_path / "broken"
        broken.mkdir()
        (broken / "config.json").write_text((lm / "config.json").read_text())
        export(broken, "gguf")
    with pytest.raises(RunDirError, match="no readable config.json"):
        export(tmp_path, "gguf")
    series = trained(tmp_path / "sp", task="direction", data="sp500")
    with pytest.raises(ExportError, match="is a direction model: only language models export"):
        export(series, "gguf")
    assert not (series / "export").exists()


def test_the_f16_reference_holds_the_effective_weights(lm, tmp_path):
    """F16 stores γ·codes, so it is the same ternary model, in 16-bit floats."""
    from gguf import GGUFReader

    reader = GGUFReader(export(lm, "gguf", tmp_path / "f16.gguf", "f16").path)
    [q] = [t for t in reader.tensors if t.name == "blk.0.attn_q.weight"]
    values = np.unique(np.abs(np.asarray(q.data, dtype=np.float32)))
    assert len(values) == 2 and values[0] == 0  # {0, γ}


def test_magnet_export_writes_checks_and_says_what_it_did(lm, tmp_path):
    from tests.conftest import magnet

    out = tmp_path / "expert.gguf"
    done = magnet("export", lm, "--type", "tq1_0", "--out", out)
    assert done.returncode == 0, done.stderr
    first, parity_line = done.stdout.strip().splitlines()
    assert first.startswith(f"{out} (gguf, tq1_0, ") and out.exists()
    assert parity_line.startswith("parity: gguf ") and "tokens agree" in parity_line
    assert not out.with_name(out.name + ".partial").exists()
    nothing = magnet("export", tmp_path / "nowhere")
    assert nothing.returncode == 1 and nothing.stderr.startswith("Error: ")
