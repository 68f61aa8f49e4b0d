"""``docqa eval``: retrieval and answer quality on SQuAD-shaped files, measured through the API.

The method is the Oxen.ai "Practical ML Dive — Building RAG from Open Source" one: a SQuAD
file's unique paragraphs become a corpus (each linked to the ids of its questions), every
question is asked, and what counts is how often the question's own paragraph comes back.

- ``squad``: the file → ``Corpus`` (paragraphs with deterministic ids, questions with their
  paragraph and gold answers), and the default collection name (a hash of the corpus).
- ``docset``: a documentation set instead (a folder of pages, ids their relative paths, and
  questions naming the page and heading path that answer them): its pages uploaded as files,
  hit@1/hit@3 by page, and by section where hits carry one.
- ``metrics``: pure figures: Recall@k, MRR@10, nDCG@10; SQuAD v1.1 normalisation, EM and F1.
- ``runner`` (retrieval) and ``answer_quality`` (answers): the HTTP side: ingest the corpus
  through the service (or re-use it), ask the questions (``sample``: which), print the table,
  write the JSON (``reports``: the table and the file).
- ``fusion_tuning``: in process, not through the API: the fusion's ``k`` and weights (and the
  reranker's keep weight) chosen on SQuAD training articles
  (``python -m docqa.evaluation.fusion_tuning``).
"""

from docqa.evaluation.answer_quality import answers
from docqa.evaluation.client import EvalError
from docqa.evaluation.runner import retrieval
from docqa.training.squad import Corpus, Paragraph, QuestionItem, load

__all__ = ["Corpus", "EvalError", "Paragraph", "QuestionItem", "answers", "load", "retrieval"]
