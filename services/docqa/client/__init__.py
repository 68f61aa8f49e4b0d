"""``docqa ingest``: folders, JSONL and Parquet files sent to the API in batches.

``sources`` walks and reads what is local (ids, hashes), ``plan`` decides what to send and
delete and packs batches (pure), ``transport`` is the HTTP side (retries, the API's routes),
``run`` drives them with progress bars and a summary.
"""
