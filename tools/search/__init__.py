"""The experiment search policy: Optuna TPE over the training settings, plus failure rules."""
