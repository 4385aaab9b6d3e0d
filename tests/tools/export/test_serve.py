"""`magnet serve` as a user runs it, called with the official openai client."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from tests.conftest import magnet
from tests.tools.export.test_export import trained


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(target, port):
    proc = subprocess.Popen(
        [sys.executable, "-m", "magnet.agent.cli", "serve", str(target), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.integration
def test_a_language_model_answers_the_openai_client(tmp_path):
    from openai import OpenAI

    run = trained(tmp_path / "shakespeare", extra={"seq_len": 64})
    with serving(run, free_port()) as url:
        client = OpenAI(base_url=url, api_key="unused")
        assert [m.id for m in client.models.list().data] == ["shakespeare"]
        done = client.completions.create(
            model="shakespeare", prompt="ROMEO:", max_tokens=8, temperature=0
        )
        assert done.usage.prompt_tokens == 6 and done.usage.completion_tokens == 8
        chat = client.chat.completions.create(
            model="shakespeare",
            messages=[{"role": "user", "content": "Speak."}],
            max_tokens=8,
            temperature=0,
        )
        assert chat.choices[0].message.role == "assistant"
        chunks = client.completions.create(
            model="shakespeare", prompt="ROMEO:", max_tokens=8, temperature=0, stream=True
        )
        streamed = "".join(c.choices[0].text for c in chunks if c.choices)
        assert streamed == done.choices[0].text  # streaming says the same, in pieces
    assert (run / "export" / "model-tq2_0.gguf").exists()  # exported on the way


@pytest.mark.integration
def test_a_classifier_answers_on_v1_classify(tmp_path):
    run = trained(tmp_path / "spam", task="classify", data="sms-spam")
    with serving(run, free_port()) as url:
        body = json.dumps({"input": ["WINNER! Claim your prize now", "see you at 6"]}).encode()
        request = urllib.request.Request(
            f"{url}/classify", body, headers={"Content-Type": "application/json"}
        )
        reply = json.loads(urllib.request.urlopen(request, timeout=10).read())
        assert [d["index"] for d in reply["data"]] == [0, 1]
        for d in reply["data"]:
            assert set(d["scores"]) == {"ham", "spam"} and d["label"] in d["scores"]
            assert sum(d["scores"].values()) == pytest.approx(1, abs=1e-4)
        bad = urllib.request.Request(f"{url}/classify", b'{"text": 1}')
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(bad, timeout=10)
        assert e.value.code == 400


def test_a_port_in_use_or_a_wrong_target_is_one_error_line(tmp_path):
    missing = magnet("serve", tmp_path / "x.gguf")
    assert missing.stderr.strip() == (
        f"Error: {tmp_path / 'x.gguf'}: neither a run directory nor a .gguf file"
    )
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"not a gguf")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        busy = magnet("serve", gguf, "--port", port)
    assert busy.returncode == 1
    assert (
        busy.stderr.strip()
        == f"Error: port {port} is in use on 127.0.0.1: pick another with --port"
    )
    port = free_port()
    broken = magnet("serve", gguf, "--port", port)
    assert broken.stderr.strip() == (
        f"Error: llama.cpp could not load {gguf} on 127.0.0.1:{port} "
        "(MAGNET_DEBUG=1 shows llama.cpp's log)"
    )
