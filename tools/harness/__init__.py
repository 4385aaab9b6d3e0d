"""The harness: what judges an experiment, and what the experiment under test cannot touch.

    experiment.py   the spec a sandboxed run gets, its data prepared on the host, the run, the score
    evaluate.py     a run's metrics from its checkpoint and the harness's own copy of the data
    baselines.py    classical anchors on the same splits (xz, TF-IDF + LR, majority class)
    failures.py     a finished run's diagnosis: crash, timeout, divergence, over/underfitting

It uses sandboxes/ to isolate the run; sandboxes/ knows nothing of it.
"""
