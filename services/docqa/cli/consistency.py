"""``docqa check [--collection C] [--repair] [--json]``: whether the catalog, the vector store
and the keyword index agree (``docqa.ingest.consistency``), and putting them right from the
catalog (``docqa.ingest.repair``).

It talks to the stores themselves (the settings' ``DOCQA_REDIS_URL``, ``DOCQA_CHROMA_URL``,
``DOCQA_KEYWORD_REDIS_URL``), as a worker does, and may run while the service does. Each
difference is printed as it is found (with ``--json``: one JSON object per line, then a last
line ``{"summary": ...}``). Exit status: 0 when the stores agree, 1 when differences were found
(repaired or not: run it again to see them gone), 2 when a store cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

CHECKER = "docqa-check"  # its name on the document locks it takes


def add_check(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check", help="say whether the catalog, Chroma and the keyword index agree; --repair"
    )
    check.add_argument("--collection", action="append", help="only this one (repeatable)")
    check.add_argument("--repair", action="store_true", help="put each difference right")
    check.add_argument("--json", action="store_true", help="JSON lines on stdout")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_check(args: argparse.Namespace) -> int:
    from docqa import wiring
    from docqa.core.config import Settings
    from docqa.core.errors import Unavailable
    from docqa.ingest import check_report
    from docqa.ingest.consistency import Stores

    settings = Settings()
    redis, rq = wiring.redis_client(settings), wiring.rq_client(settings)
    queue = wiring.ingest_queue(settings, rq)
    stores = Stores(
        catalog=wiring.catalog(redis, CHECKER, queue),
        store=wiring.chroma_store(settings),
        keywords=wiring.keyword_index(settings),
        queue=queue,
    )
    bar = _Bar(enabled=not args.no_progress and sys.stderr.isatty())

    def found(line: dict[str, Any]) -> None:
        bar.clear()
        print(json.dumps({"difference": line}) if args.json else _text(line), flush=True)

    try:  # the same report as a check the worker runs (POST /admin/checks)
        summary = check_report.run(
            stores, args.collection, repair=args.repair, on_line=found, progress=bar.update, keep=0
        ).summary
    except Unavailable as exc:
        bar.clear()
        print(f"docqa check: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        bar.close()
        redis.close()
        rq.close()
    report = summary.to_json()
    if args.json:
        print(json.dumps({"summary": report}))
    else:
        print(
            f"checked {len(summary.collections)} collections: {summary.documents} documents, "
            f"{summary.vectors} chunks in Chroma, {summary.keywords} in the keyword index"
        )
        differences = sum(summary.found.values())
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.found.items()))
        print(f"{differences} differences" + (f": {kinds}" if kinds else "; the stores agree"))
        if args.repair and differences:
            print(f"repaired {sum(summary.repaired.values())}; run docqa check again to confirm")
    return 1 if summary.found else 0


def _text(line: dict[str, Any]) -> str:
    ids = line["chunk_ids"]
    chunks = f" ({len(ids)} chunks)" if ids else ""
    text = (
        f"{line['kind']:<20} {line['collection']}/{line['document_id']}{chunks}: {line['detail']}"
    )
    return text + (f"\n{'':<20} -> {line['repair']}" if line["repair"] is not None else "")


class _Bar:
    """A progress bar on stderr (tqdm), one per stage of the check."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.what: str | None = None
        self.bar: Any = None

    def update(self, what: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if what != self.what:
            self.close()
            self.what, self.bar = what, tqdm(desc=what, total=total, unit="", file=sys.stderr)
        self.bar.n = done
        self.bar.refresh()

    def clear(self) -> None:
        if self.bar is not None:
            self.bar.clear()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.what = None, None
