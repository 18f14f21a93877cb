"""Draw the wiring diagram from a pin map, so the diagram and the config never disagree.

    python wiring/render.py                       # wiring/doorward.toml -> wiring/doorward.svg
    python wiring/render.py --config C --output O.svg
    python wiring/render.py --check               # exit 1 if the committed SVG is out of date

The drawing is appliance.wiring's, the same the admin page shows on its settings page.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from appliance.config import ConfigError, load_config  # noqa: E402
from appliance.wiring import wiring_svg  # noqa: E402


def render(config_path: Path) -> str:
    """The SVG for the pin map in ``config_path``."""
    return wiring_svg(load_config(config_path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a Doorward pin map's wiring diagram.")
    parser.add_argument("--config", type=Path, default=HERE / "doorward.toml")
    parser.add_argument("--output", type=Path, default=HERE / "doorward.svg")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    try:
        svg = render(args.config)
    except ConfigError as exc:
        print(f"render.py: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != svg:
            print(f"{args.output} is out of date: run python wiring/render.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(svg, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
