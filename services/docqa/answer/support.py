"""Pure: check each sentence of an answer against the passages it was given, and correct
citations that point at a passage that does not support their sentence.

Each answer unit (``sentences.split``: sentences, list items, code blocks) is compared with
every sentence of every source passage. A pair's features:

* ``cosine``: the embedder's cosine of the answer sentence (citation marks left out) and the
  passage sentence;
* ``overlap``: the share of the answer sentence's terms (docqa's own stems,
  ``search.terms.query_terms``: no stop words) that the passage sentence holds;
* ``context``: the same share for the whole passage (a claim may take its subject from the
  sentence before);
* ``numbers``: 1 when the answer sentence holds a number (a term with a digit) that the whole
  passage does not, else 0: a date or a figure is what a model most often gets wrong.

They are combined by ``Rule``: a logistic score ``1 / (1 + exp(-(bias + w . features)))``,
``supported`` when it reaches ``threshold``; the weights were fitted on SQuAD training
articles (``docqa.evaluation.support_calibration``; the figures are beside ``RULE``). The
best span of the sentence is the passage sentence with the highest score.

Citations: when a sentence cites ``[n]`` and no cited passage supports it but another passage
does, the sentence's marks are rewritten to that passage's number (``corrected``; ``cited``
keeps what the model wrote). ``grounded`` is the share of the answer's characters (those of
its units) that lie in supported units.

Everything to embed goes to ``embed`` in one call (answer sentences and passage sentences).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from docqa.answer.citations import CITATION, parse_citations
from docqa.answer.sentences import Sentence, split
from docqa.core.models import Hit
from docqa.search.terms import query_terms, stem, words

Embed = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class Rule:
    """How the features combine into a score, and the score that counts as support."""

    bias: float
    cosine: float
    overlap: float
    context: float
    numbers: float
    threshold: float = 0.5

    def score(self, cosine: float, overlap: float, context: float, numbers: float) -> float:
        z = (
            self.bias
            + self.cosine * cosine
            + self.overlap * overlap
            + self.context * context
            + self.numbers * numbers
        )
        return 1.0 / (1.0 + math.exp(-z))


# Fitted on SQuAD training articles: ``python -m docqa.evaluation.support_calibration
# --articles 24`` (first 12 articles fit, 4,778 pairs; last 12 measure, 4,587 pairs): accuracy
# 83.3 %, balanced 85.0 %, ROC AUC 0.926 (cosine alone 0.894); supported claims 90.3 % kept,
# claims against an unrelated passage of the same article 99.7 % and with a wrong answer
# 59.8 % refused. The threshold is the one with the best balanced accuracy on the fit half.
# Against 83 answer sentences of the embedded model labelled by hand (SQuAD dev and the
# documentation set, ``docs/eval/support-labels.jsonl``; ``python -m
# docqa.evaluation.support_labels measure``): agreement 56.6 %, score ROC AUC 0.825; nearly
# all disagreements are sentences it calls supported (35 of 36): fragments, lead-ins ("The
# options are:"), and near-verbatim lines with one detail wrong. Not refitted on those labels.
RULE = Rule(
    bias=-7.5225, cosine=4.9715, overlap=2.3794, context=4.7247, numbers=-3.0865, threshold=0.28
)


@dataclass(frozen=True)
class SentenceSupport:
    """One unit of the answer and the passage span that supports it best."""

    start: int  # the unit's span in the (corrected) answer text
    end: int
    text: str
    kind: str  # "sentence", "item" or "code"
    cited: tuple[int, ...]  # the source numbers its marks named, as the model wrote them
    source: int | None  # the passage [n] of the best span (None: no passage to compare with)
    span_start: int  # the best span's offsets in that passage's text
    span_end: int
    score: float
    supported: bool
    corrected: bool  # its marks named passages that do not support it; now they name `source`


@dataclass(frozen=True)
class Checked:
    text: str  # the answer, citations corrected
    sentences: tuple[SentenceSupport, ...]
    grounded: float  # supported characters / characters of all units, 0-1


@dataclass(frozen=True)
class _Span:
    source: int  # 1-based
    start: int
    end: int
    text: str
    terms: frozenset[str]


def terms_of(text: str) -> frozenset[str]:
    """Every stem of ``text`` (stop words kept: a passage is matched against, not searched)."""
    return frozenset(stem(word) for word in words(text))


def claim_of(text: str) -> str:
    return CITATION.sub("", text).strip()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def share(needed: Sequence[str], held: frozenset[str]) -> float:
    return sum(term in held for term in needed) / len(needed) if needed else 0.0


def novel_number(needed: Sequence[str], held: frozenset[str]) -> float:
    """1.0 when a term of ``needed`` with a digit in it is not in ``held``."""
    return float(any(term not in held for term in needed if any(c.isdigit() for c in term)))


def features(
    claim_vector: Sequence[float],
    needed: Sequence[str],
    span: _Span,
    span_vector: Sequence[float],
    passage: frozenset[str],
) -> tuple[float, float, float, float]:
    """(cosine, overlap, context, numbers) of an answer sentence and a passage span."""
    return (
        cosine(claim_vector, span_vector),
        share(needed, span.terms),
        share(needed, passage),
        novel_number(needed, passage),
    )


def passage_spans(sources: Sequence[Hit]) -> list[_Span]:
    spans: list[_Span] = []
    for n, hit in enumerate(sources, start=1):
        for unit in split(hit.text):
            spans.append(_Span(n, unit.start, unit.end, unit.text, terms_of(unit.text)))
    return spans


def check(text: str, sources: Sequence[Hit], embed: Embed, rule: Rule = RULE) -> Checked:
    """Each unit of ``text`` checked against ``sources`` (``sources[n - 1]`` is ``[n]``)."""
    units = [unit for unit in split(text) if claim_of(unit.text)]
    spans = passage_spans(sources)
    if not units or not spans:
        return Checked(text, (), 0.0)
    claims = [claim_of(unit.text) for unit in units]
    vectors = embed([*claims, *(span.text for span in spans)])
    claim_vectors, span_vectors = vectors[: len(claims)], vectors[len(claims) :]
    terms = [terms_of(hit.text) for hit in sources]
    checked: list[SentenceSupport] = []
    for unit, claim, vector in zip(units, claims, claim_vectors, strict=True):
        needed = query_terms(claim)
        scored = [
            (
                rule.score(*features(vector, needed, span, span_vector, terms[span.source - 1])),
                span,
            )
            for span, span_vector in zip(spans, span_vectors, strict=True)
        ]
        checked.append(_judge(unit, scored, rule))
    return _corrected(text, checked)


def _judge(unit: Sentence, scored: list[tuple[float, _Span]], rule: Rule) -> SentenceSupport:
    cited = tuple(parse_citations(unit.text))
    best_score, best = max(scored, key=lambda pair: pair[0])
    in_cited = [pair for pair in scored if pair[1].source in cited]
    corrected = False
    if in_cited:
        cited_score, cited_best = max(in_cited, key=lambda pair: pair[0])
        if cited_score >= rule.threshold or best_score < rule.threshold:
            best_score, best = cited_score, cited_best  # the cited passage stands
        else:
            corrected = True  # another passage supports what the cited one does not
    return SentenceSupport(
        start=unit.start,
        end=unit.end,
        text=unit.text,
        kind=unit.kind,
        cited=cited,
        source=best.source,
        span_start=best.start,
        span_end=best.end,
        score=round(best_score, 4),
        supported=best_score >= rule.threshold,
        corrected=corrected,
    )


def _corrected(text: str, checked: list[SentenceSupport]) -> Checked:
    """The answer with each corrected unit's marks rewritten, spans moved to match."""
    out: list[str] = []
    result: list[SentenceSupport] = []
    position = shift = 0
    for item in checked:
        out.append(text[position : item.start])
        body = _remark(item.text, item.source) if item.corrected else item.text
        start = item.start + shift
        result.append(replace(item, start=start, end=start + len(body), text=body))
        shift += len(body) - len(item.text)
        out.append(body)
        position = item.end
    out.append(text[position:])
    total = sum(item.end - item.start for item in result)
    supported = sum(item.end - item.start for item in result if item.supported)
    return Checked("".join(out), tuple(result), round(supported / total, 4) if total else 0.0)


def _remark(sentence: str, source: int | None) -> str:
    """``sentence`` with its first citation mark naming ``source``, its other marks gone."""
    seen = False

    def swap(match: re.Match[str]) -> str:
        nonlocal seen
        if seen:
            return ""
        seen = True
        group = match.group(0)
        return f"{group[: len(group) - len(group.lstrip())]}[{source}]"

    return CITATION.sub(swap, sentence)
