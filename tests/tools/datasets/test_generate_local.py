"""Generation with the real embedded model (slow: minutes of llama.cpp on 2 cores)."""

import pytest

from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.generate import GenerateRequest, generate
from magnet.tools.datasets.generated import save_generated
from magnet.tools.llm import Llm


@pytest.mark.slow
def test_the_local_model_makes_a_small_valid_dataset(tmp_path):
    request = GenerateRequest(
        task="classify",
        labels=["scam", "normal"],
        describe="short text messages people receive on their phone",
        n=12,
        batch_size=6,
    )
    examples, gen = generate(Llm("local/smollm2-135m-instruct"), request)
    assert gen.model == "local/smollm2-135m-instruct" and gen.batches >= 2
    assert all(e.label in ("scam", "normal") and 8 <= len(e.text) <= 2000 for e in examples)
    assert len({e.text for e in examples}) == len(examples)
    ds = load_dataset(str(save_generated(tmp_path / "sms", "classify", examples, gen)))
    assert ds.labels == ["normal", "scam"] and sum(ds.card.sizes.values()) == len(examples)
