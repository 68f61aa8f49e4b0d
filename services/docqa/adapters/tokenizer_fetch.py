"""Fetches the served model's ``tokenizer.json`` from the Hugging Face Hub at start-up, for the
TEI embedder to tokenize in process (``DOCQA_TEI_TOKENIZER_REPO``, when no
``DOCQA_TEI_TOKENIZER_PATH`` is given).

``huggingface_hub.hf_hub_download`` keeps the file in its cache (``HF_HOME``; ``HF_TOKEN`` for a
gated model, ``HF_ENDPOINT`` for a mirror, ``HF_HUB_OFFLINE=1`` for the cache alone) and, when
the Hub cannot be reached, answers from that cache if the file is there. When it is not (a host
without network, a repository without a ``tokenizer.json``, a refused token), the fetch logs why
and calls ``on_fallback("unfetched", detail)`` (the ``docqa_tokenizer_fallbacks_total`` metric),
and the embedder tokenizes through TEI's ``/tokenize`` as before. A file fetched is still
checked against ``/tokenize`` before use (``TeiEmbedder``), as a configured one is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docqa.adapters.tei_tokenizer import FILE_NAME

log = logging.getLogger(__name__)

Download = Callable[..., Any]  # hf_hub_download's signature: (repo_id=, filename=, revision=)


def fetch_tokenizer(
    repo: str,
    *,
    revision: str | None = None,
    download: Download | None = None,
    on_fallback: Callable[[str, str], None] | None = None,
) -> Path | None:
    """The local path of ``repo``'s ``tokenizer.json`` (downloaded, or from the cache), or
    None when it cannot be had (logged, and ``on_fallback`` called)."""
    try:
        if download is None:
            from huggingface_hub import hf_hub_download

            download = hf_hub_download
        found = Path(str(download(repo_id=repo, filename=FILE_NAME, revision=revision)))
        if not found.is_file():
            raise FileNotFoundError(f"the download gave {str(found)!r}, which is not a file")
    except Exception as exc:  # offline, unknown repo, refused token, library missing: all alike
        detail = f"cannot fetch {FILE_NAME} of {repo!r}: {type(exc).__name__}: {exc}"
        log.warning(
            "tokenizing through TEI's /tokenize instead of in process (unfetched): %s", detail
        )
        if on_fallback is not None:
            on_fallback("unfetched", detail)
        return None
    log.info("fetched %s of %r to %s", FILE_NAME, repo, found)
    return found
