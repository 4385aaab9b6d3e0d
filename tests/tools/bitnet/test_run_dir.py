import pytest

from magnet.tools.bitnet.run_dir import METRICS, RunDir
from magnet.tools.bitnet.train import TrainRequest, train
from magnet.tools.errors import RunDirError
from tests.conftest import TINY


def test_a_finished_run_reads_back_through_its_run_dir(tmp_path):
    out = tmp_path / "run"
    result = train(TrainRequest(task="lm", data="shakespeare", steps=3, out=out, settings=TINY))
    run = RunDir(out)
    assert run.complete and run.result() == result
    assert run.config().model.n_layers == 1 and run.card().name == "shakespeare"
    assert run.tokenizer() is not None and run.checkpoint.exists()
    steps = [r.step for r in run.metrics() if r.event == "train"]
    assert steps == [1, 2, 3] and run.metrics()[0].loss > 0  # extra fields stay typed data


def test_a_line_cut_by_a_kill_is_skipped_and_later_steps_can_be_dropped(tmp_path):
    run = RunDir(tmp_path)
    for step in (1, 2, 3):
        run.append_metric({"event": "train", "step": step, "loss": 1.0})
    with open(tmp_path / METRICS, "a") as f:
        f.write('{"event": "train", "st')
    assert [r.step for r in run.metrics()] == [1, 2, 3]
    run.keep_metrics_until(2)
    assert [r.step for r in run.metrics()] == [1, 2]


def test_a_directory_that_is_no_run_is_one_clear_error(tmp_path):
    run = RunDir(tmp_path)
    assert not run.started and not run.complete and run.tokenizer() is None
    with pytest.raises(RunDirError, match="no readable config.json"):
        run.config()
