"""``docqa mcp``: docqa's tools for an MCP client on stdio (Claude Desktop, an IDE), served by
``docqa.client.mcp_bridge`` from a running API (``--base-url``, ``--api-key``)."""

from __future__ import annotations

import argparse
import os


def add_mcp(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mcp = sub.add_parser(
        "mcp", help="serve docqa's tools to an MCP client on stdio, from a running API"
    )
    mcp.add_argument(
        "--base-url",
        default=os.environ.get("DOCQA_URL", "http://127.0.0.1:8000"),
        help="the docqa API (default: $DOCQA_URL or http://127.0.0.1:8000)",
    )
    mcp.add_argument(
        "--api-key",
        default=os.environ.get("DOCQA_API_KEY"),
        help="the API key (default: $DOCQA_API_KEY)",
    )


def run_mcp(args: argparse.Namespace) -> int:
    from docqa.client import mcp_bridge

    mcp_bridge.run(args.base_url, args.api_key)
    return 0
