"""The whole service on one machine with embedded defaults (``docqa run``)."""
