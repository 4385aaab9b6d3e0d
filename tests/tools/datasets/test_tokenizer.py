from magnet.tools.datasets.tokenizer import build_tokenizer, load_tokenizer


def test_byte_tokenizer_round_trips_unicode(tmp_path):
    tok = build_tokenizer("byte", [], 0)
    text = "déjà vu — 東京\n"
    ids = tok.encode(text)
    assert tok.vocab_size == 256 and len(ids) == len(text.encode())
    tok.save(tmp_path / "t.json")
    assert load_tokenizer(tmp_path / "t.json").decode(ids) == text


def test_bpe_learns_from_train_texts_and_round_trips(tmp_path):
    train = ["def function(argument):\n    return argument\n"] * 50
    tok = build_tokenizer("bpe", train, 300)
    ids = tok.encode(train[0])
    assert len(ids) < len(train[0].encode()) / 2  # merges learned from the train split
    tok.save(tmp_path / "t.json")
    again = load_tokenizer(tmp_path / "t.json")
    assert again.decode(again.encode("unseen text: 42")) == "unseen text: 42"


def test_the_llm_tokenizer_keeps_only_train_tokens_and_the_llms_own_vectors(tmp_path):
    import numpy as np

    train = [" dog", " puppy", " tax", " pizza", " bread"]
    tok = build_tokenizer("smollm2", train, 0)
    assert tok.vocab_size == len(train) + 1  # one LLM token each, and 0 for the rest
    ids = tok.encode(" dog pizza")
    assert tok.decode(ids) == " dog pizza" and 0 not in ids
    assert list(tok.encode(" zebra")) == [0] * len(tok.encode(" zebra"))  # unseen in train
    tok.save(tmp_path / "t.json")
    again = load_tokenizer(tmp_path / "t.json")
    assert again.fingerprint() == tok.fingerprint()
    assert list(again.encode(" tax pizza")) == list(tok.encode(" tax pizza"))

    vectors = tok.embeddings(256)
    assert vectors.shape == (6, 256) and not vectors[0].any()
    assert 0.005 < vectors[1:].std() < 0.05  # the model's own initial scale

    def cos(a: str, b: str) -> float:
        x, y = vectors[tok.encode(a)[0]], vectors[tok.encode(b)[0]]
        return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))

    # What the LLM learnt survives the projection: related words are the closer ones.
    assert cos(" dog", " puppy") > cos(" dog", " tax") + 0.1
    assert cos(" pizza", " bread") > cos(" pizza", " tax") + 0.1


def test_the_llms_vectors_are_read_from_the_gguf_where_the_cache_cannot_be_written(
    tmp_path, monkeypatch
):
    from magnet.tools.datasets import pretrained

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("MAGNET_CACHE", str(blocked / "cache"))  # as a read-only sandbox cache
    found = pretrained.source()
    assert found.vectors.shape == (49152, 576) and found.gram.shape == (576, 576)
    assert blocked.read_text() == "not a folder"  # nothing written, no error
    monkeypatch.setenv("MAGNET_CACHE", str(tmp_path / "cache"))
    again = pretrained.source()  # a writable cache is filled once, then read
    (made,) = (tmp_path / "cache" / "pretrained").iterdir()
    assert made.name.endswith(f"-{pretrained.LAYOUT}") and len(list(made.iterdir())) == 3
    assert (again.vectors[:10] == found.vectors[:10]).all()
