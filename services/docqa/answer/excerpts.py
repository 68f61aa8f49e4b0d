"""Pure: an extractive answer, quoted verbatim from the top passages; no generator is called.

The sentences (``sentences.split``) of the first ``PASSAGES`` hits are scored against the
question by ``Pick``: a logistic combination of the embedder's cosine of question and
sentence, the share of the question's terms (docqa's stems, ``search.terms.query_terms``)
the sentence holds, the same share for its whole passage, and the passage's rank (1 for the
first). Its weights are fitted on SQuAD training articles (a sentence is right when it holds
a gold answer; ``docqa.evaluation.excerpt_calibration``). The answer is the best sentence,
then the second best when both fit in ``MAX_WORDS`` words, each followed by its ``[n]``; a
sentence longer than that alone is cut at a word boundary (still a verbatim slice).

Every unit of the answer is a slice of its passage, so each is reported supported (score 1)
with its exact span, and ``grounded`` is 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from docqa.answer.sentences import split
from docqa.answer.support import Checked, Embed, SentenceSupport, cosine, share, terms_of
from docqa.core.models import Hit
from docqa.search.terms import query_terms

PASSAGES = 3  # the top hits an answer is quoted from
MAX_SENTENCES = 2
MAX_WORDS = 60
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Pick:
    """How a passage sentence's features combine into its score as an answer."""

    bias: float
    cosine: float
    overlap: float
    context: float
    rank: float  # times 1 / the passage's rank

    def score(self, cosine: float, overlap: float, context: float, rank: float) -> float:
        z = (
            self.bias
            + self.cosine * cosine
            + self.overlap * overlap
            + self.context * context
            + self.rank * rank
        )
        return 1.0 / (1.0 + math.exp(-z))


# Provisional weights, set by hand; replaced by those fitted on SQuAD training articles
# (``python -m docqa.evaluation.excerpt_calibration fit``) once that run ends.
PICK = Pick(bias=-4.0, cosine=4.0, overlap=2.0, context=1.0, rank=1.0)


@dataclass(frozen=True)
class Candidate:
    source: int  # the passage's number [n]
    start: int  # offsets in the passage's text
    end: int
    text: str
    kind: str
    features: tuple[float, float, float, float]  # cosine, overlap, context, rank
    score: float = 0.0


def featured(question: str, hits: Sequence[Hit], embed: Embed) -> list[Candidate]:
    """The sentences of the first ``PASSAGES`` hits with their features (one ``embed`` call;
    code blocks only when they are all there is)."""
    units = [
        (n, unit)
        for n, hit in enumerate(hits[:PASSAGES], start=1)
        for unit in split(hit.text)
        if unit.kind != "code"
    ] or [(n, unit) for n, hit in enumerate(hits[:PASSAGES], start=1) for unit in split(hit.text)]
    if not units:
        return []
    vectors = embed([question, *(unit.text for _, unit in units)])
    needed = query_terms(question)
    context = [share(needed, terms_of(hit.text)) for hit in hits[:PASSAGES]]
    return [
        Candidate(
            n,
            unit.start,
            unit.end,
            unit.text,
            unit.kind,
            (
                cosine(vectors[0], vector),
                share(needed, terms_of(unit.text)),
                context[n - 1],
                1.0 / n,
            ),
        )
        for (n, unit), vector in zip(units, vectors[1:], strict=True)
    ]


def candidates(
    question: str, hits: Sequence[Hit], embed: Embed, pick: Pick = PICK
) -> list[Candidate]:
    """The sentences of the first ``PASSAGES`` hits, best answer first."""
    scored = [
        replace(candidate, score=pick.score(*candidate.features))
        for candidate in featured(question, hits, embed)
    ]
    return sorted(scored, key=lambda candidate: -candidate.score)


def _cut(candidate: Candidate, words: int) -> Candidate:
    """The candidate's first ``words`` words (a verbatim slice of it)."""
    found = list(_WORD.finditer(candidate.text))
    if len(found) <= words:
        return candidate
    end = found[words - 1].end()
    return replace(candidate, end=candidate.start + end, text=candidate.text[:end])


def choose(ranked: Sequence[Candidate], max_sentences: int = MAX_SENTENCES) -> list[Candidate]:
    """The best candidate, then the next ones while the words stay within ``MAX_WORDS``."""
    if not ranked:
        return []
    chosen = [_cut(ranked[0], MAX_WORDS)]
    words = len(_WORD.findall(chosen[0].text))
    for candidate in ranked[1:]:
        if len(chosen) >= max_sentences:
            break
        more = len(_WORD.findall(candidate.text))
        if words + more <= MAX_WORDS:
            chosen.append(candidate)
            words += more
    return chosen


def excerpt(
    question: str,
    hits: Sequence[Hit],
    embed: Embed,
    *,
    pick: Pick = PICK,
    max_sentences: int = MAX_SENTENCES,
) -> Checked:
    """The extractive answer with its sentences (each supported by its own span)."""
    chosen = choose(candidates(question, hits, embed, pick), max_sentences)
    text = ""
    units: list[SentenceSupport] = []
    for candidate in chosen:
        if text:
            text += " "
        body = f"{candidate.text} [{candidate.source}]"
        units.append(
            SentenceSupport(
                start=len(text),
                end=len(text) + len(body),
                text=body,
                kind=candidate.kind,
                cited=(candidate.source,),
                source=candidate.source,
                span_start=candidate.start,
                span_end=candidate.end,
                score=1.0,
                supported=True,
                corrected=False,
            )
        )
        text += body
    return Checked(text, tuple(units), 1.0 if units else 0.0)
