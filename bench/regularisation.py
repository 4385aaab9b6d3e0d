"""Does regularisation help at the compute a session spends? An A/B on every bench dataset.

    python bench/regularisation.py [--data sms-spam,emoji-groups,sp500] [--steps 600]
                                   [--seeds 2] [--variants none,dropout=0.1,...]
                                   [--set key=value] [--equal-flops]

Each variant (`none`, or `key=value` settings joined by `+`, e.g. `dropout=0.1+keep_best=true`)
trains the default config (with the --set values) for --steps from the same seeds, through
the session's own path (sandbox, then the harness's val evaluation of the checkpoint), two at
a time on a worker per core. With --equal-flops each variant instead trains the FLOPs that
`none` spends in --steps (tools/bitnet/compute.py), so a variant that changes the context,
the vocabulary or the model's size is compared at equal compute. Val only: the test split
stays for the sessions. Prints one JSON object: per dataset and variant each seed's val
metric and their mean, the steps each variant trained, and each variant's gain over `none`
(positive: better, in the metric's direction) beside the seeds' spread.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_VARIANTS = "none,dropout=0.1,label_smoothing=0.1,keep_best=true+eval_every=50"


def _research():
    """bench/research.py, for its datasets (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_research", Path(__file__).with_name("research.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def settings_of(variant: str) -> dict:
    from magnet.tools.bitnet.config import parse_settings

    return {} if variant == "none" else parse_settings(variant.split("+"))


def measure(args, data: str, work: Path) -> dict:
    """Every variant × seed of one dataset: {variant: [val per seed]} and the metric."""
    from magnet.tools.bitnet.compute import steps_for_flops, train_flops
    from magnet.tools.bitnet.config import parse_settings
    from magnet.tools.harness.config import ExperimentConfig
    from magnet.tools.harness.experiment import ExperimentRequest, run_experiment
    from magnet.tools.metrics import metric as metric_of
    from magnet.tools.workers import Workers

    research = _research()
    task, path = research.TASKS[data], research.source(data)
    cores = os.cpu_count() or 1
    pool, keys, values, steps, name = Workers(cores), [], {}, {}, None
    base = ExperimentConfig.build(task, path, parse_settings(args.set), args.steps)
    start = time.perf_counter()
    for variant in args.variants:
        for seed in range(args.seeds):
            settings = {**parse_settings(args.set), **settings_of(variant), "seed": seed}
            config = ExperimentConfig.build(task, path, settings, args.steps)
            if args.equal_flops:
                config = config.with_steps(steps_for_flops(config.train, train_flops(base.train)))
            steps[variant] = config.train.steps
            request = ExperimentRequest(config=config, threads=1)
            key = f"{variant}|{seed}"
            out = work / data / f"{len(keys)}"
            pool.start(key, lambda r=request, o=out: run_experiment(r, o))
            keys.append(key)
    while keys:
        key, outcome = pool.wait(keys)
        keys.remove(key)
        variant, seed = key.split("|")
        if isinstance(outcome, BaseException) or outcome.harness is None:
            print(f"{data} {variant} seed {seed} failed: {outcome}", file=sys.stderr)
            continue
        name = {"lm": "bits_per_byte"}.get(task, "balanced_accuracy")
        values.setdefault(variant, {})[int(seed)] = outcome.harness[name]
        print(f"{data} {variant} seed {seed}: {outcome.harness[name]:.4f} "
              f"at {time.perf_counter() - start:.0f} s", file=sys.stderr)  # fmt: skip
    objective = metric_of(name)
    return {"task": task, "metric": name, "steps": steps, **_summary(values, objective)}


def _summary(values: dict, objective) -> dict:
    """Means per variant, gains over `none`, and the seeds' largest spread."""
    means = {v: sum(s.values()) / len(s) for v, s in values.items() if s}
    spread = max((max(s.values()) - min(s.values()) for s in values.values() if s), default=0)
    base = means.get("none")
    gains = {v: round(objective.gain(m, base), 4) for v, m in means.items() if base is not None}
    return {
        "values": {v: [round(s[k], 4) for k in sorted(s)] for v, s in values.items()},
        "means": {v: round(m, 4) for v, m in means.items()},
        "gain_over_none": gains,
        "seeds_spread": round(spread, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="sms-spam,emoji-groups,sp500")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS)
    parser.add_argument("--set", action="append", default=[], help="key=value for every run")
    parser.add_argument(
        "--equal-flops", action="store_true", help="each variant trains the FLOPs of `none`"
    )
    args = parser.parse_args()
    args.variants = args.variants.split(",")
    for variant in args.variants:  # a bad variant fails here, before anything trains
        settings_of(variant)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for data in args.data.split(","):
            results[data] = measure(args, data, Path(tmp))
    out = {"steps": args.steps, "equal_flops": args.equal_flops, "seeds": args.seeds}
    print(json.dumps({**out, "datasets": results}, indent=2))


if __name__ == "__main__":
    main()
