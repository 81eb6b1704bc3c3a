"""Put each provider's user guide (docs/<provider>.md) into README.md between the markers.

Also the "Is Meter Hub for me?" table (docs/for-me.md) between its own markers near the top.
The guides stay the single source; run this after editing one (a test checks README is current).
    python scripts/build_readme.py [--check]
"""

from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
ORDER = ("dsmr", "dsmr_reader", "octopus", "enedis", "caruna", "korto")
START, END = "<!-- provider sections -->", "<!-- end provider sections -->"
#: Guides that are not about one source, each between its own markers, at README's level 2.
GENERAL = {"examples": ("<!-- examples -->", "<!-- end examples -->")}
FOR_ME, END_FOR_ME = "<!-- is it for me -->", "<!-- end is it for me -->"


def demote(text: str) -> str:
    """Guides start at level 2; inside README's "Sources" section they sit one level lower."""
    return "\n".join("#" + line if line.startswith("#") else line for line in text.splitlines())


def build(readme: str) -> str:
    guides = [
        demote((ROOT / "docs" / f"{key}.md").read_text().strip())
        for key in ORDER
        if (ROOT / "docs" / f"{key}.md").is_file()
    ]
    readme = _between(readme, START, END, "\n\n".join(guides))
    for key, (start, end) in GENERAL.items():
        readme = _between(readme, start, end, (ROOT / "docs" / f"{key}.md").read_text().strip())
    table = (ROOT / "docs" / "for-me.md").read_text().strip()
    head, _, rest = readme.partition(FOR_ME)
    _, _, tail = rest.partition(END_FOR_ME)
    return f"{head}{FOR_ME}\n\n{table}\n\n{END_FOR_ME}{tail}" if rest else readme


def _between(readme: str, start: str, end: str, text: str) -> str:
    """``readme`` with ``text`` between the markers (they are added before Troubleshooting if missing)."""
    if start not in readme:
        head, marker, tail = readme.partition("\n## Troubleshooting")
        readme = f"{head}\n{start}\n{end}\n{marker}{tail}"
    head, _, rest = readme.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n\n{text}\n\n{end}{tail}"


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text()
    wanted = build(current)
    if "--check" in sys.argv:
        if current != wanted:
            print("README.md is out of date: run python scripts/build_readme.py")
            return 1
        return 0
    path.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
