"""``python -m bench`` (``make bench``): ingest and question-path figures for docqa.

It starts a private stack (``docqa.stack.local.Stack``) in a temporary directory, or measures the
one at ``--base-url``, and prints one table (also written as JSON to ``bench/results.json`` and
as Markdown, with date and machine, to ``docs/benchmarks.md``).
Each figure from the service stands beside its *raw reference*: the same work done in this
process with the same model (and, for search, Chroma queried directly), so the table shows
what the service's plumbing (HTTP, queue, worker, catalog) costs on top of the model.

Layout, one module per concern:

- ``results``: ``Metric``/``Result`` (what a measurement reports), ``percentiles()``, the
  table, the machine description and the JSON file.
- ``corpus``: SQuAD paragraphs and questions (or synthetic text when the file is missing).
- ``target``: the stack under test (private or ``--base-url``) and its HTTP helpers.
- ``ingest`` (throughput, efficiency, naive per-row reference), ``search`` (latency at 1/8/32
  clients over ``--search-chunks``), ``memory`` (worker peak RSS per ``--memory-chunks`` size),
  ``ask``: one measurement each, ``measure(...) -> Result``.
- ``experiments/``: one-off measurements, each run alone; not part of ``python -m bench``.
"""
