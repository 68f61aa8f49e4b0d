"""Which tokenizers chunking may count from one tokenization of a section: the pipeline's
stages read from ``tokenizer.json``, then checked on sample texts."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from docqa.adapters.additivity import additive, holds
from docqa.adapters.local_embedder import default_model_path
from docqa.adapters.tei_tokenizer import SAMPLE, FastTokenizer
from docqa.core.ports import TokenSpans
from support.fakes import CharTokenizer, JoiningTokenizer

BERT: dict[str, Any] = {
    "normalizer": {"type": "BertNormalizer", "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "model": {"type": "WordPiece"},
    "added_tokens": [{"content": "[SEP]", "lstrip": False, "rstrip": False}],
}


def test_bert_wordpiece_is_additive() -> None:
    assert additive(BERT)
    in_sequence = {
        **BERT,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Punctuation"}],
        },
    }
    assert additive(in_sequence)


def test_byte_level_and_sentencepiece_pipelines_are_not() -> None:
    byte_level = {**BERT, "pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE"}}
    metaspace = {**BERT, "pre_tokenizer": {"type": "Metaspace"}, "model": {"type": "Unigram"}}
    assert not additive(byte_level)
    assert not additive(metaspace)


def test_a_stage_that_looks_beyond_a_word_makes_it_not_additive() -> None:
    assert not additive({**BERT, "normalizer": {"type": "Replace", "pattern": " ", "content": ""}})
    assert not additive({**BERT, "pre_tokenizer": {"type": "Punctuation"}})  # keeps spaces
    assert not additive({**BERT, "model": {"type": "BPE", "dropout": 0.1}})
    stripping = {"content": "[MASK]", "lstrip": True, "rstrip": False}
    assert not additive({**BERT, "added_tokens": [stripping]})
    assert not additive({**BERT, "added_tokens": [{"content": "new line", "lstrip": False}]})


def test_the_embedded_models_tokenizer_is_additive_and_holds_on_the_sample() -> None:
    tokenizer = FastTokenizer.load(default_model_path())
    assert tokenizer.additive
    assert holds(tokenizer.token_spans, SAMPLE)


def test_holds_finds_whitespace_tokens_and_tokens_that_depend_on_the_next_word() -> None:
    texts = ["Title\n\nSome text here.", "two  words"]
    assert not holds(CharTokenizer().token_spans, texts)  # every space is a token
    assert not holds(JoiningTokenizer().token_spans, texts)  # a blank line before a word


def test_holds_finds_a_token_across_whitespace() -> None:
    def pairs(texts: Sequence[str]) -> list[TokenSpans]:  # "new york" is one token
        return [[m.span() for m in re.finditer(r"new york|\S+", t)] for t in texts]

    assert holds(pairs, ["in york", "new things"])
    assert not holds(pairs, ["in new york"])
