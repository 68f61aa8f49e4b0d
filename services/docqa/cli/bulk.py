"""The bulk commands of ``docqa``, all over HTTP: ``ingest`` (folders, .jsonl and .parquet files
into a collection, ``docqa.client.run``), ``export`` (a collection, vectors included, to Parquet)
and ``import`` (an exported file into a collection, ``docqa.client.backup``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docqa.client import run


def add_ingest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ingest = sub.add_parser(
        "ingest",
        help="send folders, .jsonl and .parquet files, or web pages (a URL, a sitemap.xml, "
        "a site with --crawl) to a collection, over HTTP",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH|URL")
    ingest.add_argument("--collection", required=True)
    ingest.add_argument("--base-url", default="http://127.0.0.1:8000", help="the docqa API")
    ingest.add_argument("--api-key", default=os.environ.get("DOCQA_API_KEY"))
    ingest.add_argument("--glob", help="only paths (relative to their folder) matching this")
    ingest.add_argument(
        "--delete-missing", action="store_true", help="delete the root's documents not found"
    )
    ingest.add_argument("--dry-run", action="store_true", help="say what would be done")
    ingest.add_argument("--concurrency", type=int, default=4, help="requests in flight")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bars")
    web = ingest.add_argument_group("web pages (PATH is an http(s) URL)")
    web.add_argument("--crawl", action="store_true", help="follow links on the same host")
    web.add_argument("--depth", type=int, default=2, help="with --crawl: links deep")
    web.add_argument("--max-pages", type=int, default=100, help="pages at most")
    web.add_argument(
        "--delay", type=float, default=0.5, help="seconds between requests to a host (at least)"
    )
    ingest.add_argument(
        "--watch",
        action="store_true",
        help="after the first pass, keep following the folders and send what changes "
        "(with --delete-missing, delete what disappears) until Ctrl-C",
    )


def run_ingest(args: argparse.Namespace) -> int:
    from docqa.client.pages import is_url
    from docqa.client.run import Options, ingest

    urls = [p for p in args.paths if is_url(p)]
    if urls:
        return _web(args, urls)
    options = Options(
        paths=[Path(p) for p in args.paths],
        collection=args.collection,
        base_url=args.base_url,
        api_key=args.api_key,
        glob=args.glob,
        delete_missing=args.delete_missing,
        dry_run=args.dry_run,
        concurrency=max(1, args.concurrency),
        progress=not args.no_progress,
    )
    if args.watch:
        return _watch(options)
    try:
        summary = ingest(options)
    except (ValueError, RuntimeError) as exc:
        print(f"docqa ingest: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 1 if summary.failed else 0


def _web(args: argparse.Namespace, urls: list[str]) -> int:
    """URLs, sitemaps or a crawl: exit 1 when some pages failed, 2 for bad options."""
    import httpx

    from docqa.client.site import SiteOptions, ingest_site

    wrong = [p for p in args.paths if p not in urls]
    refused = [f for f, on in (("--watch", args.watch), ("--glob", args.glob)) if on]
    refused += ["--delete-missing"] if args.delete_missing else []
    refused += ["--dry-run"] if args.dry_run else []
    if wrong or refused:
        why = f"paths and URLs together ({wrong})" if wrong else f"{', '.join(refused)} with URLs"
        print(f"docqa ingest: not supported: {why}", file=sys.stderr)
        return 2
    options = SiteOptions(
        urls=urls,
        collection=args.collection,
        base_url=args.base_url,
        api_key=args.api_key,
        crawl=args.crawl,
        depth=max(0, args.depth),
        max_pages=max(1, args.max_pages),
        delay_s=max(0.0, args.delay),
        progress=not args.no_progress,
    )
    try:
        summary = ingest_site(options)
    except (RuntimeError, httpx.TransportError) as exc:
        print(f"docqa ingest: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 1 if summary.failed else 0


def _watch(options: run.Options) -> int:
    """The first pass, then ``client.watch`` until Ctrl-C (exit 1 if anything failed)."""
    import httpx

    from docqa.client import sources, watch
    from docqa.client.run import ingest
    from docqa.client.transport import Api

    failed = False
    catch_up = False
    try:
        summary = ingest(options)
        print("\n".join(summary.lines()))
        failed = bool(summary.failed)
    except ValueError as exc:
        print(f"docqa ingest: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, httpx.TransportError) as exc:  # the API away: catch up when back
        print(f"docqa ingest: first pass not done ({exc}); waiting for the API", file=sys.stderr)
        catch_up = True
    headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
    with httpx.Client(base_url=options.base_url, headers=headers, timeout=300) as client:
        watcher = watch.Watcher(
            Api(client, attempts=1),  # back-off is the watcher's, so Ctrl-C stays quick
            sources.roots(options.paths),
            options.collection,
            glob=options.glob,
            delete_missing=options.delete_missing,
        )
        tally = watch.follow(watcher, catch_up=catch_up)
    print(f"\nstopped: {watcher.status()}")
    return 1 if failed or tally.failed else 0


def add_transfer(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="write a collection, vectors included, to Parquet")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.parquet")
    load = sub.add_parser("import", help="load an exported Parquet file into a collection")
    load.add_argument("file", type=Path, metavar="FILE.parquet")
    load.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    for command in (export, load):
        command.add_argument("--collection", required=True)
        command.add_argument("--base-url", default="http://127.0.0.1:8000", help="the docqa API")
        command.add_argument("--api-key", default=os.environ.get("DOCQA_API_KEY"))
        command.add_argument("--no-progress", action="store_true", help="no progress bars")


def run_transfer(args: argparse.Namespace) -> int:
    """Exit 2 when the file, the server or the network refused or failed (an import run again
    resumes; an export leaves no file), 1 when some documents were not imported."""
    import httpx

    from docqa.client import backup
    from docqa.client.transport import Api

    progress = not args.no_progress
    done: backup.Exported | backup.Imported
    with backup.client(args.base_url, args.api_key) as http:
        try:
            if args.command == "export":
                done = backup.export(Api(http), args.collection, args.out, progress=progress)
            else:
                done = backup.import_file(
                    Api(http),
                    args.file,
                    args.collection,
                    concurrency=max(1, args.concurrency),
                    progress=progress,
                )
        except (ValueError, RuntimeError, OSError, httpx.TransportError) as exc:
            print(f"docqa {args.command}: {exc}", file=sys.stderr)
            return 2
    print("\n".join(done.lines()))
    return 1 if isinstance(done, backup.Imported) and done.failed else 0
