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
    demo = sub.add_parser(
        "demo",
        help="diagnose a stuck training on bundled data, apply the top fix, write an HTML report",
        description="The quickstart scenario, headless: a small MLP on scikit-learn's digits (bundled, no download) "
        "made imbalanced and partly mislabeled; prints the diagnosis, reruns with the most promising remedy, compares "
        "the runs and writes a self-contained HTML report.",
    )
    demo.add_argument("--epochs", type=int, default=40, help="epochs to train (default 40)")
    demo.add_argument("--verbose", type=int, default=0, choices=[0, 1, 2], help="Keras fit verbosity (default 0)")
    demo.add_argument(
        "--report", default="stallmagic-quickstart.html", metavar="PATH",
        help="where to write the HTML report (default stallmagic-quickstart.html; '' for none)",
    )  # fmt: skip
    demo.add_argument("--no-rerun", action="store_true", help="diagnose only, do not rerun with the top remedy")
    args = parser.parse_args(argv)
    if args.command == "demo":
        if args.epochs < 1:
            demo.error(f"The --epochs argument of demo must be an int >= 1. Got {args.epochs} instead.")
        if args.report:  # before minutes of training, not after them
            from .render.export import ExportError, check_report_path

            try:
                check_report_path(args.report)
            except ExportError as exc:
                demo.error(f"--report: {exc}")
        from .demo import run_demo

        return run_demo(
            epochs=args.epochs, verbose=args.verbose, report_path=args.report or None, rerun=not args.no_rerun
        )
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
