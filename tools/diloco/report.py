"""Per-domain evaluation of base, specialists, merged and joint models, and retention.

    retention(domain) = (L_base - L_merged) / (L_base - L_specialist)

1.0 means the merged model kept all that the domain's specialist learned; 0 means none of
it. L is validation bits per byte on the domain (the byte vocabulary is shared, so it is
comparable across models).
"""

from __future__ import annotations

import statistics
from pathlib import Path

from magnet.tools.bitnet.checkpoint import load_model
from magnet.tools.bitnet.precision import autocast
from magnet.tools.bitnet.tasks import make_task
from magnet.tools.datasets import load_dataset
from magnet.tools.datasets.tokenizer import ByteTokenizer


def score(spec, joint: bool = False) -> dict:
    """The harness's view of a finished run in spec.out: the per-domain table of base, each
    domain's first specialist, merged (and joint), retention, and the merged model's mean."""
    from magnet.tools.diloco.worker import worker_dir

    models = {"base": spec.out / "base"}
    specialists = {}
    if spec.mode == "diloco":
        for rank in range(len(spec.domains)):
            path = worker_dir(spec, rank) / "specialist"
            if path.exists():  # a worker lost in fault-tolerant mode left none
                name = f"specialist:{Path(spec.domain_of(rank)).name}"
                models[name], specialists[spec.domain_of(rank)] = path, name
    models["merged"] = spec.out / "merged"
    if joint:
        models["joint"] = spec.out / "joint"
    table = evaluate_models(models, spec.domains)
    ret = retention(table, specialists) if specialists else None
    return {
        "bits_per_byte": statistics.fmean(table["merged"].values()),
        "val_bits_per_byte": table,
        "retention": ret,
        "table": format_table(table, ret) if ret else None,
    }


def evaluate_models(models: dict[str, Path], domains: list[str]) -> dict[str, dict[str, float]]:
    """{model name: {domain: val bits per byte}} for model directories of one architecture."""
    loaded = {name: load_model(path) for name, path in models.items()}
    cfg = next(iter(loaded.values()))[1]
    table: dict[str, dict[str, float]] = {name: {} for name in models}
    for domain in domains:
        task = make_task(load_dataset(domain, "lm"), ByteTokenizer(), cfg)
        for name, (model, _) in loaded.items():
            with autocast(cfg.precision):
                table[name][domain] = task.evaluate(model, "val")["bits_per_byte"]
    return table


def retention(table: dict[str, dict[str, float]], specialists: dict[str, str]) -> dict:
    """`specialists` maps each domain to its specialist's name in the table."""
    per = {}
    for domain, spec_name in specialists.items():
        base, spec = table["base"][domain], table[spec_name][domain]
        gain = base - spec
        per[domain] = (base - table["merged"][domain]) / gain if gain > 0 else None
    known = [v for v in per.values() if v is not None]
    return {
        "per_domain": per,
        "mean": statistics.fmean(known) if known else None,
        "worst": min(known) if known else None,
    }


def format_table(table: dict[str, dict[str, float]], ret: dict) -> str:
    domains = list(next(iter(table.values())))
    lines = ["| model | " + " | ".join(Path(d).name for d in domains) + " |"]
    lines.append("|---" * (len(domains) + 1) + "|")
    for name, row in table.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[d]:.4f}" for d in domains) + " |")
    cells = [_pct(ret["per_domain"].get(d)) for d in domains]  # n/a: no specialist
    lines.append("| retention | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def retention_summary(ret: dict) -> str:
    return f"mean {_pct(ret['mean'])}, worst {_pct(ret['worst'])}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
