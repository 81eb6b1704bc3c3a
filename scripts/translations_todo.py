"""List the keys each translation lacks or has in excess, compared with strings.json.

Usage: python scripts/translations_todo.py [LANG ...]

Prints, per file in custom_components/meterhub/translations/, the dotted keys that are
missing (with their English text, ready to translate) and the keys strings.json no
longer has. Exits 1 if any file misses a key, so CI or a later pass can rely on it.
"""

from __future__ import annotations

import json
from pathlib import Path
import sys

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "meterhub"


def leaves(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(leaves(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def load(path: Path) -> dict[str, str]:
    return leaves(json.loads(path.read_text(encoding="utf-8")))


def main(argv: list[str]) -> int:
    source = load(PACKAGE / "strings.json")
    wanted = set(argv)
    files = sorted((PACKAGE / "translations").glob("*.json"))
    any_missing = False
    for path in files:
        lang = path.stem
        if wanted and lang not in wanted:
            continue
        translated = load(path)
        missing = [key for key in source if key not in translated]
        extra = sorted(key for key in translated if key not in source)
        if not missing and not extra:
            print(f"{path.name}: complete ({len(translated)} strings)")
            continue
        print(f"{path.name}: {len(missing)} missing, {len(extra)} extra")
        for key in missing:
            print(f"  missing {key}: {source[key]}")
        for key in extra:
            print(f"  extra   {key}")
        any_missing = any_missing or bool(missing)
    return 1 if any_missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
