import json
from datetime import date, timedelta

import pytest

from magnet.tools.datasets import load_dataset
from magnet.tools.errors import DatasetError

DAY0 = date(2020, 1, 1)


def _labeled_rows(n=40):
    return [
        {
            "text": f"message number {i} {'win cash' if i % 2 else 'see you'}",
            "label": "spam" if i % 2 else "ham",
        }
        for i in range(n)
    ]


def test_directory_of_text_files(tmp_path):
    for i in range(12):
        (tmp_path / f"doc{i}.txt").write_text(f"document {i}\n" * 20)
    (tmp_path / "blob.bin").write_bytes(b"\xff\xfe\x00\x81" * 10)
    ds = load_dataset(str(tmp_path), task="lm")
    assert sum(ds.card.sizes.values()) == 12
    assert any("blob.bin (not UTF-8 text)" in n for n in ds.card.notes)


def test_a_single_small_file_is_cut_into_contiguous_splits(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("abcdefghij" * 100)
    ds = load_dataset(str(path), task="lm")
    assert "".join([*ds.train, *ds.val, *ds.test]) == path.read_text()


def test_jsonl_and_csv_labelled_files(tmp_path):
    rows = _labeled_rows()
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("Text,Label\n" + "\n".join(f'"{r["text"]}",{r["label"]}' for r in rows))
    a, b = load_dataset(str(jsonl), "classify"), load_dataset(str(csv_path), "classify")
    assert a.labels == b.labels == ["ham", "spam"]
    assert a.card.sha256 == b.card.sha256
    assert sum(a.card.sizes.values()) == 40


def test_ohlcv_csv(tmp_path):
    lines = ["date,open,high,low,close,volume"]
    for i in range(200):
        price = 100 + (i % 7) - (i % 3)
        lines.append(
            f"{DAY0 + timedelta(days=i)},{price},{price + 1},{price - 1},{price},{1000 + i}"
        )
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(lines))
    ds = load_dataset(str(path), "direction")
    assert ds.feature_names == ["log_return", "log_range", "log_volume_change"]
    assert sum(ds.card.sizes.values()) == 200 - 32 - 1


@pytest.mark.parametrize(
    "name,content,task,message",
    [
        ("empty", None, "lm", "no text files found"),
        ("bad.jsonl", '{"text": "a", "label": "x"}\n{oops', "classify", "line 2: not valid JSON"),
        ("cols.csv", "message,kind\nhello,ham\n", "classify", "needs columns 'text' and 'label'"),
        (
            "p.csv",
            "date,close\n2024-01-02,100\n2024-01-03,abc\n",
            "direction",
            "line 3: close 'abc' is not a number",
        ),
        ("noclose.csv", "date,price\n2024-01-02,1\n", "direction", "no 'close' column"),
        (
            "dup.csv",
            "Date,Close\n2024-01-02,1\n2024-01-03,2\n2024-01-02,3\n",
            "direction",
            r"date 2024-01-02 appears twice \(lines 2 and 4\)",
        ),
        ("when.csv", "Date,Close\n2024-01-02,1\nyesterday,2\n", "direction", "line 3: date"),
        (
            "few.jsonl",
            '{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}',
            "classify",
            "fewer than 3",
        ),
        ("bin.csv", b"\xff\xfe\x00bad", "classify", "not a UTF-8 text file"),
    ],
)
def test_bad_user_data_gets_one_clear_error(tmp_path, name, content, task, message):
    path = tmp_path / name
    if content is None:
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset(str(path), task)


def yahoo_csv(days: int = 300, split_at: int = 150, adjusted: bool = True) -> str:
    """A price file as finance sites export it: newest first, a 2-for-1 split on one day."""
    header = (
        "Date,Open,High,Low,Close,Adj Close,Volume"
        if adjusted
        else "Date,Open,High,Low,Close,Volume"
    )
    rows = []
    for i in range(days):
        adj = 100 * (1.001**i) * (1 + 0.01 * ((i * 7) % 5 - 2))
        close = adj * (2 if i < split_at else 1)  # before the split the quoted price was double
        adj_col = f",{adj:.4f}" if adjusted else ""
        when = DAY0 + timedelta(days=i)
        rows.append(
            f"{when},{close:.4f},{close * 1.01:.4f},{close * 0.99:.4f},{close:.4f}{adj_col},1000"
        )
    return "\n".join([header, *reversed(rows)])


def test_a_price_file_as_exported_uses_the_adjusted_close_in_date_order(tmp_path):
    path = tmp_path / "ACME.csv"
    path.write_text(yahoo_csv())
    ds = load_dataset(str(path), "direction")
    assert "close column: 'Adj Close' (adjusted for splits and dividends)" in ds.card.notes
    assert "days 2020-01-01 to 2020-10-26 (rows sorted by date)" in ds.card.notes
    returns = ds.train.x[:, :, 0]  # standardised log returns: no −50% day among them
    assert abs(returns).max() < 4

    raw = tmp_path / "raw.csv"
    raw.write_text(yahoo_csv(adjusted=False))
    notes = load_dataset(str(raw), "direction").card.notes
    assert "close column: 'Close'" in notes
    assert any("likely splits: 2020-05-30 (-51%)" in n for n in notes), notes
