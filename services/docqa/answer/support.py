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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from docqa.answer.citations import parse_citations, remark
from docqa.answer.claims import claim_of, claims, content_terms
from docqa.answer.details import details
from docqa.answer.sentences import Sentence, split
from docqa.answer.spans import Span, candidates, passage_spans, share, terms_of
from docqa.answer.support_rule import RULE, Rule, features
from docqa.core.models import Hit
from docqa.search.terms import query_terms

Embed = Callable[[Sequence[str]], list[list[float]]]


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
