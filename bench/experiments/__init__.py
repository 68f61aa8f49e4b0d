"""One-off measurements kept for their write-ups: each module runs alone
(``python -m bench.experiments.<name>``) and none is part of ``python -m bench``.

- ``chunk_context_cost``: what the context prefix costs at ingest (issue 18), in process.
- ``docs_ingest``: ``docqa ingest`` of a documentation folder beside the raw encode rate, then
  ``/search`` at c=1 over it (issues 16 and 18), against a running stack.
- ``ingest_tokenizing``: what the worker tokenizes to chunk and index, two source trees side by
  side, over the TEI stub.
- ``sections``: sectioning on a documentation folder, offline (issue 18): chunks, and fenced
  code blocks cut.
"""
