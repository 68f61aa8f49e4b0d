"""Pure: an extractive answer, quoted verbatim from the top passages; no generator is called.

Which sentences: ``sentence_ranking.ranked`` scores every sentence (``sentences.split``) of
the first ``PASSAGES`` hits as an answer to the question (a conditional logit over term
overlap weighted by rarity, the passage's fused score, what the question asks for...; fitted
on SQuAD train). The answer is the best sentence, then the next best that fits within
``MAX_WORDS`` words, each followed by its ``[n]``; a sentence longer than that alone is cut at
a word boundary (still a verbatim slice). On all 10,570 SQuAD dev questions the answer holds a
gold answer for 81.1 % (its first sentence alone: 73.8 %). The default ranking
(``sentence_ranking.TERMS``) calls no model; ``ranking=sentence_ranking.SEMANTIC`` adds the
embedder's cosine (83.1 % / 75.9 %) for one embedder call per answer (p50 ~150-220 ms here).

Every unit of the answer is a slice of its passage, so each is reported supported (score 1)
with its exact span, and ``grounded`` is 1.

``candidates`` and ``PICK`` are the older single-sentence pick (cosine, overlap, context,
rank, novel terms, a number asked and held, length; logistic, fitted on SQuAD train): the
abstention rule (``abstention.measures``) reads its best score, calibrated with it.

Speed: with the default ranking, no model call (terms and regular expressions only).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from docqa.answer import sentence_ranking
from docqa.answer.sentence_ranking import Ranked, Ranking
from docqa.answer.sentences import split
from docqa.answer.support import Checked, Embed, SentenceSupport, share, terms_of
from docqa.answer.support_rule import cosine
from docqa.core.models import Hit
from docqa.search.terms import query_terms

PASSAGES = sentence_ranking.PASSAGES  # the top hits an answer is quoted from
MAX_SENTENCES = 2
MAX_WORDS = 60
_WORD = re.compile(r"\S+")
# A question that asks for a number or a date.
_NUMERIC = re.compile(
    r"\b(when|what year|which year|how (many|much|long|old|far|often|large|big|tall|high))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Pick:
    """How a passage sentence's features combine into its score as an answer."""

    bias: float
    cosine: float
    overlap: float
    context: float
    rank: float  # times 1 / the passage's rank
    novel: float  # times the share of the sentence's terms the question does not hold
    number: float  # times 1 when the question asks for a number or date and it holds one
    length: float  # times ln(1 + the sentence's words)

    def score(self, *features: float) -> float:
        weights = (
            self.cosine,
            self.overlap,
            self.context,
            self.rank,
            self.novel,
            self.number,
            self.length,
        )
        z = self.bias + sum(w * x for w, x in zip(weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


# Fitted on 600 questions of the first 30 SQuAD training articles, 8,166 candidate sentences
# of their top 3 passages (``python -m docqa.evaluation.excerpt_calibration fit-pick``). On a
# 600-question sample of SQuAD dev it chose a sentence holding a gold answer for 69.2 % (one
# sentence) and 78.0 % (two); the answer now uses ``sentence_ranking`` instead.
PICK = Pick(
    bias=-4.6012,
    cosine=2.3229,
    overlap=3.4904,
    context=-0.8889,
    rank=2.5112,
    novel=-3.2589,
    number=0.6569,
    length=0.4907,
)


# the pick scores the same candidates as the ranking: a passage sentence, its features in the
# order of the pick's weights (cosine, overlap, context, rank, novel, number, length), its score
Candidate = Ranked


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
    asked = frozenset(needed)
    numeric = bool(_NUMERIC.search(question))
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
                _novel(unit.text, asked),
                float(numeric and any(c.isdigit() for c in unit.text)),
                math.log1p(len(_WORD.findall(unit.text))),
            ),
        )
        for (n, unit), vector in zip(units, vectors[1:], strict=True)
    ]


def _novel(text: str, asked: frozenset[str]) -> float:
    """The share of ``text``'s terms (stop words out) that the question does not hold."""
    own = query_terms(text)
    return sum(term not in asked for term in own) / len(own) if own else 0.0


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
    embed: Embed | None,
    *,
    ranking: Ranking | None = None,
    max_sentences: int = MAX_SENTENCES,
) -> Checked:
    """The extractive answer with its sentences (each supported by its own span)."""
    chosen = choose(sentence_ranking.ranked(question, hits, embed, ranking), max_sentences)
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
