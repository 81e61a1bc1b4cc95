"""Command line: ``python -m stallmagic demo``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stallmagic",
        description="Why is my validation accuracy stuck? Diagnose Keras training runs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="train a stuck model on bundled data and show what stallmagic records")
    demo.add_argument("--epochs", type=int, default=30, help="epochs to train (default 30)")
    demo.add_argument("--verbose", type=int, default=0, choices=[0, 1, 2], help="Keras fit verbosity (default 0)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(epochs=args.epochs, verbose=args.verbose)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
