"""The ``docqa`` command."""

from __future__ import annotations

import argparse
import sys

from docqa.cli import agents, bulk, consistency, evaluation, service, training


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docqa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    service.add_service(sub)
    evaluation.add_eval(sub)
    training.add_training(sub)
    bulk.add_ingest(sub)
    bulk.add_transfer(sub)
    consistency.add_check(sub)
    agents.add_mcp(sub)
    args = parser.parse_args(argv)

    if args.command in service.COMMANDS:
        return service.run_service(args)
    elif args.command == "eval":
        return evaluation.run_eval(args)
    elif args.command == "ingest":
        return bulk.run_ingest(args)
    elif args.command in ("export", "import"):
        return bulk.run_transfer(args)
    elif args.command == "mcp":
        return agents.run_mcp(args)
    elif args.command == "check":
        return consistency.run_check(args)
    elif args.command == "finetune":
        return training.run_finetune(args)
    elif args.command == "synth":
        return training.run_synth(args)
    elif args.command == "feedback":
        return training.run_feedback_export(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
