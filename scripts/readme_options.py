"""Rewrite the README's solver options section from the solvers' declarations.

``python scripts/readme_options.py [README.md]``; ``tests/solvers/test_options.py``
fails while the section and the declarations differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from h2h_opt.cli import OPTIONS_BEGIN, OPTIONS_END, options_reference
from h2h_opt.io import atomic_write


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "README.md")
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition(OPTIONS_BEGIN)
    _, sep2, tail = rest.partition(OPTIONS_END)
    if not sep or not sep2:
        sys.exit(f"{path}: markers {OPTIONS_BEGIN!r} ... {OPTIONS_END!r} not found")
    atomic_write(path, f"{head}{OPTIONS_BEGIN}\n{options_reference()}\n{OPTIONS_END}{tail}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
