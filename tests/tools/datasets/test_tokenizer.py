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
