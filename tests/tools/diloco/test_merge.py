import pytest
import torch

from magnet.tools.bitnet.checkpoint import save_weights
from magnet.tools.bitnet.run_dir import CHECKPOINT as FILENAME
from magnet.tools.diloco.merge import merge, merge_dirs
from magnet.tools.errors import MergeError

BASE = {"w": torch.tensor([0.0, 0.0, 0.0, 0.0]), "steps": torch.tensor([3])}
A = {"w": torch.tensor([1.0, -2.0, 0.5, 0.0]), "steps": torch.tensor([3])}
B = {"w": torch.tensor([3.0, 1.0, -0.5, 0.0]), "steps": torch.tensor([3])}


def close(a, b):
    return torch.allclose(a, torch.tensor(b), atol=1e-6)


def test_average_and_task_arithmetic():
    assert close(merge(BASE, [A, B], "average")["w"], [2.0, -0.5, 0.0, 0.0])
    assert close(merge(BASE, [A, B], "task-arithmetic", scale=0.5)["w"], [2.0, -0.5, 0.0, 0.0])
    assert close(merge(BASE, [A, B], "task-arithmetic", scale=1.0)["w"], [4.0, -1.0, 0.0, 0.0])
    assert merge(BASE, [A, B], "average")["steps"].tolist() == [3]  # integers are not merged


def test_ties_trims_elects_a_sign_and_averages_the_agreeing():
    # density 0.5 keeps each delta's two largest magnitudes: A → [1, -2, 0, 0], B → [3, 1, 0, 0].
    # Signs of the sum: [+, -, 0, 0]; element 1 keeps only A's -2 (B's +1 disagrees).
    assert close(merge(BASE, [A, B], "ties", density=0.5)["w"], [2.0, -2.0, 0.0, 0.0])


def test_diloco_is_one_nesterov_outer_step_on_the_mean_pseudo_gradient():
    # g = base - mean = [-2, 0.5, 0, 0]; fresh Nesterov: update (1 + m) g; new = base - lr (1+m) g
    got = merge(BASE, [A, B], "diloco", outer_lr=0.7, momentum=0.9)["w"]
    assert close(got, [2.0 * 0.7 * 1.9, -0.5 * 0.7 * 1.9, 0.0, 0.0])
    plain = merge(BASE, [A, B], "diloco", outer_lr=1.0, momentum=0.0)["w"]
    assert close(plain, [2.0, -0.5, 0.0, 0.0])  # lr 1, no momentum: the average


def test_mismatched_models_are_refused():
    with pytest.raises(MergeError, match="'w' is \\(3,\\), the base's is \\(4,\\)"):
        merge(BASE, [A, {"w": torch.zeros(3), "steps": torch.tensor([3])}], "average")
    with pytest.raises(MergeError, match="different tensors"):
        merge(BASE, [{"v": torch.zeros(4), "steps": torch.tensor([3])}], "average")
    with pytest.raises(MergeError, match="no specialists"):
        merge(BASE, [], "average")


def model_dir(path, weights, d_model=256):
    path.mkdir(parents=True)
    config = f'{{"task": "lm", "model": {{"d_model": {d_model}}}}}'
    (path / "config.json").write_text(config)
    save_weights(path / FILENAME, weights, config)
    return path


def test_merge_dirs_writes_a_complete_directory_or_nothing(tmp_path):
    base = model_dir(tmp_path / "base", BASE)
    a, b = model_dir(tmp_path / "a", A), model_dir(tmp_path / "b", B)
    out = merge_dirs(base, [a, b], "average", tmp_path / "merged")
    assert sorted(p.name for p in out.iterdir()) == [FILENAME, "config.json", "merge.json"]
    other = model_dir(tmp_path / "wide", A, d_model=512)
    with pytest.raises(MergeError, match="different architecture"):
        merge_dirs(base, [a, other], "average", tmp_path / "m2")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text((base / "config.json").read_text())
    with pytest.raises(MergeError, match="has no checkpoint.safetensors"):
        merge_dirs(base, [a, tmp_path / "broken"], "average", tmp_path / "m3")
    assert not (tmp_path / "m2").exists() and not list(tmp_path.glob("m3*"))
