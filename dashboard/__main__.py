"""``python -m dashboard [--data DIR_OR_JSON] [--host H] [--port P] [--debug]``"""

from __future__ import annotations

import argparse

from .app import run


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m dashboard", description="Start the sfm dashboard.")
    p.add_argument("--data", help="a shipped snapshot (crypto-2025-10, ...) or a dataset folder or JSON file "
                   "(default: $SFM_DATA_PATH or the newest shipped snapshot)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    a = p.parse_args(argv)
    run(data=a.data, host=a.host, port=a.port, debug=a.debug)


if __name__ == "__main__":
    main()
