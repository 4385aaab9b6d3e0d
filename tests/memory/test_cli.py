import json

from magnet.memory.findings import Finding
from magnet.memory.store import FindingsStore
from tests.conftest import magnet


def test_search_show_and_stats(tmp_path):
    home = tmp_path / "home"
    store = FindingsStore(home / "memory")
    fid = store.add(
        Finding(
            session_id="s1",
            goal="classify scam messages",
            dataset="sms-spam",
            hypothesis="[bracketed] class weights help",
            verdict="improved",
            config={"class_weighted": True},
        )
    )
    found = magnet("memory", "search", "class imbalance", "--json", home=home)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["finding"]["id"] == fid
    table = magnet("memory", "search", "class imbalance", home=home)
    assert "[bracketed]" in table.stdout  # user text is not read as Rich markup
    shown = magnet("memory", "show", fid, home=home)
    assert json.loads(shown.stdout)["hypothesis"] == "[bracketed] class weights help"
    stats = json.loads(magnet("memory", "stats", home=home).stdout)
    assert stats["findings"] == 1 and stats["verdicts"] == {"improved": 1}
    missing = magnet("memory", "show", "nope", home=home)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: no finding")
