"""``python -m bench.tei_stub``: the TEI stand-in over HTTP (``bench.tei_stub.server.main``)."""

import sys

from bench.tei_stub.server import main

sys.exit(main())
