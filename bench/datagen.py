"""LLM dataset generation with the embedded local model: examples per second, share kept.

    python bench/datagen.py [--n 40] [--batch-size 10]

Generates `--n` labelled examples (two classes) with the local llama.cpp model, the way
`magnet data generate` does, and reports throughput, tokens, and the share of the model's
examples that survived validation and de-duplication, with the drop reasons. The baseline in
the same run: one plain completion of the same length without a schema, so the cost of the
JSON grammar and validation is visible. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

from magnet.tools.datasets.generate import GenerateRequest, generate
from magnet.tools.llm import Llm


def plain_tokens_per_s(llm: Llm) -> float:
    """Completion tokens per second of one unconstrained answer (prompt included in time)."""
    llm._complete([{"role": "user", "content": "Write a text message."}], None, max_tokens=8)
    start = time.perf_counter()
    reply = llm._complete(
        [{"role": "user", "content": "Write ten short text messages, one per line."}],
        None,
        max_tokens=256,
        temperature=0.9,
    )
    return reply.usage.completion_tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=10)
    args = parser.parse_args()
    llm = Llm()  # $MAGNET_MODEL or the embedded local model
    request = GenerateRequest(
        task="classify",
        labels=["scam", "normal"],
        describe="short text messages people receive on their phone",
        n=args.n,
        batch_size=args.batch_size,
    )
    baseline = plain_tokens_per_s(llm)  # also loads the model before the timing below
    start = time.perf_counter()
    examples, gen = generate(llm, request)
    seconds = time.perf_counter() - start
    offered = gen.kept + sum(gen.dropped.values())
    print(
        json.dumps(
            {
                "model": gen.model,
                "requested": args.n,
                "kept": gen.kept,
                "offered_by_model": offered,
                "kept_share": round(gen.kept / offered, 3) if offered else None,
                "dropped": gen.dropped,
                "batches": gen.batches,
                "failed_batches": gen.failed_batches,
                "tokens": gen.tokens,
                "seconds": round(seconds, 1),
                "examples_per_s": round(gen.kept / seconds, 2),
                "offered_per_s": round(offered / seconds, 2),
                "tokens_per_s": round(gen.tokens / seconds, 1),
                "baseline_plain_completion_tokens_per_s": round(baseline, 1),
                "class_counts": {
                    lab: [e.label for e in examples].count(lab) for lab in request.labels
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
