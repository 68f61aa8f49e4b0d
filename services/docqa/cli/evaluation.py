"""``docqa eval``, over HTTP against a running service: ``retrieval`` (Recall@k, MRR@10,
nDCG@10 on a SQuAD-shaped file or a documentation set), ``answers`` (SQuAD EM/F1 of /ask) and
``compare`` (retrieval reports side by side); the measuring is ``docqa.evaluation``'s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evaluate = sub.add_parser(
        "eval", help="measure retrieval or answer quality on a SQuAD-shaped file, over HTTP"
    )
    kinds = evaluate.add_subparsers(dest="evaluation", required=True)
    retrieval = kinds.add_parser(
        "retrieval", help="Recall@k, MRR@10, nDCG@10 of each question's own paragraph"
    )
    answers = kinds.add_parser("answers", help="SQuAD EM/F1 of /ask, with and without retrieval")
    for kind in (retrieval, answers):
        kind.add_argument(
            "--squad", type=Path, required=kind is answers, help="SQuAD v1.1-shaped JSON file"
        )
        kind.add_argument("--base-url", default="http://127.0.0.1:8000", help="the docqa API")
        kind.add_argument(
            "--collection", help="default: squad-<hash of the paragraphs> (re-used when complete)"
        )
        kind.add_argument("--concurrency", type=int, default=4, help="requests in flight")
        kind.add_argument("--json", type=Path, dest="json_out", help="also write every figure here")
        kind.add_argument("--no-progress", action="store_true", help="no progress bars")
    retrieval.add_argument("--questions", type=int, help="ask the first N (default: all)")
    retrieval.add_argument(
        "--docs", type=Path, help="a documentation set's pages folder (instead of --squad)"
    )
    retrieval.add_argument(
        "--docs-questions", type=Path, help="its questions (default: questions.json beside it)"
    )
    retrieval.add_argument(
        "--mode", choices=["dense", "keyword", "hybrid"], help="/search's mode (default: not sent)"
    )
    retrieval.add_argument(
        "--rerank", action="store_true", help="re-score with the service's reranker"
    )
    retrieval.add_argument(
        "--every", type=int, default=1, help="ask every N-th question only (a spread sample)"
    )
    compare = kinds.add_parser("compare", help="retrieval reports (--json files) side by side")
    compare.add_argument("reports", type=Path, nargs="+", help="`eval retrieval --json` files")
    compare.add_argument("--markdown", action="store_true", help="print a Markdown table")
    answers.add_argument("--questions", type=int, required=True, help="ask the first N")
    answers.add_argument("--top-k", type=int, default=5, help="sources /ask retrieves")
    answers.add_argument("--max-tokens", type=int, default=32, help="answer length limit")
    answers.add_argument(
        "--retrieval-only", action="store_true", help="skip the answers without retrieval"
    )


def run_eval(args: argparse.Namespace) -> int:
    from docqa import evaluation
    from docqa.training.squad import SquadFormatError

    if args.evaluation == "compare":
        from docqa.evaluation.compare import load_reports, table

        try:
            print(table(load_reports(args.reports), markdown=args.markdown))
        except (evaluation.EvalError, OSError, ValueError) as exc:
            print(f"docqa eval: {exc}", file=sys.stderr)
            return 1
        return 0

    common = {
        "base_url": args.base_url,
        "collection": args.collection,
        "concurrency": args.concurrency,
        "json_out": args.json_out,
        "progress": not args.no_progress,
    }
    from docqa.evaluation.docset import DocSetError, chosen

    try:
        if args.evaluation == "retrieval":
            evaluation.retrieval(
                args.squad,
                docs=chosen(args.squad, args.docs, args.docs_questions),
                questions=args.questions,
                mode=args.mode,
                rerank=args.rerank,
                every=args.every,
                **common,
            )
        else:
            evaluation.answers(
                args.squad,
                questions=args.questions,
                top_k=args.top_k,
                max_tokens=args.max_tokens,
                retrieval_only=args.retrieval_only,
                **common,
            )
    except (evaluation.EvalError, SquadFormatError, DocSetError, OSError) as exc:
        print(f"docqa eval: {exc}", file=sys.stderr)
        return 1
    return 0
