"""Pure: check each sentence of an answer against the passages it was given, and correct
citations that point at a passage that does not support their sentence.

Each answer unit (``sentences.split``: sentences, list items, code blocks) says what it claims
(``claims``: a short answer as the question's statement of it; lead-ins, questions, fragments
and echoes of the question claim nothing and are unsupported). A claim is weighed against the
``CANDIDATES`` passage sentences that hold most of its terms (and the best of each passage it
cites); only those are embedded, with the claims, in one ``embed`` call. A pair's features:
``cosine`` (the embedder's, of claim and passage sentence), ``overlap`` (the share of the
claim's terms, docqa's own stems without stop words, that the passage sentence holds),
``context`` (the same share for the whole passage), ``numbers`` (1 when the claim holds a
number the whole passage does not) and ``details`` (1 when a number, code token or name that
the claim adds to its question is not in the passage as written: ``docqa.answer.details``).
``Rule`` combines them in a logistic score, ``supported`` when it reaches ``threshold``
(fitted on SQuAD train: the figures are beside ``RULE``).

The supporting passage is the one whose sentence scores best; its span shown is its sentence
holding most of the claim's own terms (those the question did not give). Citations: when a
sentence cites ``[n]`` and no cited passage supports it but another does, its marks are
rewritten to that passage (``corrected``; ``cited`` keeps what the model wrote). ``grounded``
is the share of the answer's characters (those of its units) in supported units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from docqa.answer.citations import parse_citations, remark
from docqa.answer.claims import claim_of, claims, content_terms
from docqa.answer.details import details, missing
from docqa.answer.sentences import Sentence, split
from docqa.answer.spans import Span, candidates, passage_spans, share, terms_of
from docqa.core.models import Hit
from docqa.search.terms import query_terms

Embed = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class Rule:
    """How the features combine into a score, and the score that counts as support."""

    bias: float
    cosine: float
    overlap: float
    context: float
    numbers: float
    details: float = 0.0
    threshold: float = 0.5

    def score(
        self,
        cosine: float,
        overlap: float,
        context: float,
        numbers: float,
        details: float = 0.0,
    ) -> float:
        z = (
            self.bias
            + self.cosine * cosine
            + self.overlap * overlap
            + self.context * context
            + self.numbers * numbers
            + self.details * details
        )
        return 1.0 / (1.0 + math.exp(-z))


# Weights fitted on SQuAD train claim/passage pairs (``python -m
# docqa.evaluation.support_calibration --articles 24``: held-out pairs balanced accuracy
# 90.4 %, ROC AUC 0.959; 85.0 % / 0.926 without ``details``). Threshold chosen on 182 generated
# answer sentences labelled by hand, all of SQuAD train or docqa's own README
# (``support_threshold docs/eval/support-labels-train.jsonl``): 0.67 (best 0.65-0.68),
# agreement 78.6 % there (the earlier weights and claims: 72.0 %). Against the 83 labelled
# sentences reported on (SQuAD dev and the documentation set, ``docs/eval/support-labels.jsonl``;
# ``python -m docqa.evaluation.support_labels measure``): agreement 78.3 % (SQuAD dev 81.0 %,
# docs 77.4 %; was 75.9 %), score ROC AUC 0.903; most disagreements are still fluent lines
# with a wrong detail that the passage also holds, which the check passes.
RULE = Rule(
    bias=-5.6744,
    cosine=4.0067,
    overlap=2.7177,
    context=3.8978,
    numbers=-2.1589,
    details=-5.9739,
    threshold=0.67,
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


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def novel_number(needed: Sequence[str], held: frozenset[str]) -> float:
    """1.0 when a term of ``needed`` with a digit in it is not in ``held``."""
    return float(any(term not in held for term in needed if any(c.isdigit() for c in term)))


def features(
    claim_vector: Sequence[float],
    needed: Sequence[str],
    span: Span,
    span_vector: Sequence[float],
    passage: frozenset[str],
    claim_details: Sequence[str] = (),
    passage_text: str = "",
) -> tuple[float, float, float, float, float]:
    """(cosine, overlap, context, numbers, details) of an answer sentence and a passage span;
    ``details`` is 1 when a detail of the claim (``details.details``: a number, code token or
    name its question did not give) is not in the passage's text (``passage_text``)."""
    return (
        cosine(claim_vector, span_vector),
        share(needed, span.terms),
        share(needed, passage),
        novel_number(needed, passage),
        missing(claim_details, passage_text),
    )


def check(
    text: str, sources: Sequence[Hit], embed: Embed, rule: Rule = RULE, question: str = ""
) -> Checked:
    """Each unit of ``text`` checked against ``sources`` (``sources[n - 1]`` is ``[n]``);
    ``question``, when known, completes a short answer and shows an echo (``claims``)."""
    units = [unit for unit in split(text) if claim_of(unit.text)]
    spans = passage_spans(sources)
    if not units or not spans:
        return Checked(text, (), 0.0)
    said = claims(units, question)
    needs = [query_terms(claim) if claim else [] for claim in said]
    asked = frozenset(content_terms(question))
    freshes = [[term for term in needed if term not in asked] or needed for needed in needs]
    picked = [
        candidates(needed, fresh, parse_citations(unit.text), spans) if claim else []
        for unit, claim, needed, fresh in zip(units, said, needs, freshes, strict=True)
    ]
    to_embed = [claim for claim in said if claim]
    chosen = list(dict.fromkeys(index for indexes in picked for index in indexes))
    vectors = embed([*to_embed, *(spans[index].text for index in chosen)]) if to_embed else []
    claim_vectors = iter(vectors[: len(to_embed)])
    span_vectors = dict(zip(chosen, vectors[len(to_embed) :], strict=True))
    terms = [terms_of(hit.text) for hit in sources]
    texts = [hit.text for hit in sources]
    checked: list[SentenceSupport] = []
    for unit, claim, needed, fresh, indexes in zip(
        units, said, needs, freshes, picked, strict=True
    ):
        if claim is None:  # nothing to weigh: shown beside the span sharing most of its words
            words_of = query_terms(claim_of(unit.text))
            near = candidates(words_of, words_of, parse_citations(unit.text), spans)[0]
            checked.append(_unchecked(unit, spans[near]))
            continue
        vector = next(claim_vectors)
        own = details(claim, question)
        scored = [
            (
                rule.score(
                    *features(
                        vector,
                        needed,
                        spans[i],
                        span_vectors[i],
                        terms[spans[i].source - 1],
                        own,
                        texts[spans[i].source - 1],
                    )
                ),
                spans[i],
            )
            for i in indexes
        ]
        checked.append(_judge(unit, scored, fresh, rule))
    return _corrected(text, checked)


def _unchecked(unit: Sentence, near: Span) -> SentenceSupport:
    """A unit that claims nothing to check: unsupported, score 0, shown beside ``near``."""
    return SentenceSupport(
        start=unit.start,
        end=unit.end,
        text=unit.text,
        kind=unit.kind,
        cited=tuple(parse_citations(unit.text)),
        source=near.source,
        span_start=near.start,
        span_end=near.end,
        score=0.0,
        supported=False,
        corrected=False,
    )


def _judge(
    unit: Sentence, scored: list[tuple[float, Span]], fresh: Sequence[str], rule: Rule
) -> SentenceSupport:
    """The unit's verdict: the passage whose span scores best (the cited one when it supports
    the unit, or when none does), its score; the span shown is that passage's span holding
    most of the claim's ``fresh`` terms (ties: the better score), so that a short answer's
    span is the sentence that holds the answer, not one that only shares the question's
    subject."""
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
    _, best = max(
        (pair for pair in scored if pair[1].source == best.source),
        key=lambda pair: (share(fresh, pair[1].terms), pair[0]),
    )
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
        body = remark(item.text, item.source) if item.corrected else item.text
        start = item.start + shift
        result.append(replace(item, start=start, end=start + len(body), text=body))
        shift += len(body) - len(item.text)
        out.append(body)
        position = item.end
    out.append(text[position:])
    total = sum(item.end - item.start for item in result)
    supported = sum(item.end - item.start for item in result if item.supported)
    return Checked("".join(out), tuple(result), round(supported / total, 4) if total else 0.0)
