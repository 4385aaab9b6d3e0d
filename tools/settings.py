"""`key=value` words from a command line → typed settings, parsed once at the CLI edge.

    parse_pairs(["lr=1e-3", "n-layers=2", "tokenizer=bpe"])
    # {"lr": 0.001, "n_layers": 2, "tokenizer": "bpe"}

Keys read `-` as `_`; values become int, float or bool where they read as one, else stay
text. Which keys are allowed is the caller's to check (the trainer's, the search space's).
"""

from __future__ import annotations

from magnet.tools.errors import ConfigError

Scalar = int | float | bool | str


def parse_pairs(items: list[str] | None) -> dict[str, Scalar]:
    out: dict[str, Scalar] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"'{item}' is not key=value")
        out[key] = scalar(value.strip())
    return out


def scalar(value: str) -> Scalar:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(value.lower(), value)
