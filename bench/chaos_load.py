"""The chaos soak's load (``bench/chaos.py``): a producer that posts documents and a reader, each
a thread, and the ledger of what the service acknowledged.

The producer picks, from its seed, one of: a new document (JSON), a new version of one it has
(JSON or an upload), a re-post of a document's current content unchanged, a deletion. Each
version carries a phrase no other version has (``phrase``), so keyword search can say which
version is indexed. The ledger moves only on an acknowledgement (202 for a post, 204 for a
delete). A request answered 5xx, or never answered (a timeout, a connection cut), may have been
carried out after all (a Redis paused past the API's socket timeout runs the transaction once
it is continued), so its outcome joins the states the document may be in (``Entry.states``);
a 4xx leaves it as it was. A deletion answered 5xx or not at all is sent again before anything
else, as the failed record it may leave tells a client to (``DELETE_CUT_OFF``); and once more
when the load has stopped (``Producer.finish``).

The producer is paced by the queue, as a client of an ingest service would be: it posts while
the backlog (jobs queued, or scheduled to be retried, read from the API's ``/metrics``) is under
``BACKLOG_BOUND``, else waits ``BACKLOG_WAIT_S`` and looks again; so the recovery probe's document
waits behind a few jobs, not minutes of them. ``/metrics`` answering 503 (the queue's Redis down)
does not hold it back: posts then meet the outage, as the soak means them to.

The reader runs ``/search`` (hybrid and keyword), ``/ask`` (extractive: the soak's stack runs
no generator, and a quoted answer takes the whole question path but the model: retrieval, the
sentences' ranking, citations), the listing, a document's record and a job's status. Every
answer is counted by status: a 500 is a failure; a 503 (an outage, answered as problem+json) is
counted apart; an answer that never came is counted as ``no answer``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

WORDS = (
    *("river", "stone", "market", "winter", "garden", "letter", "engine", "silver"),
    *("harbor", "forest", "candle", "bridge", "mirror", "ladder", "planet", "violin"),
    *("meadow", "thunder", "copper", "lantern"),
)


BACKLOG_BOUND = 20  # jobs waiting (queued or scheduled) under which the producer posts
BACKLOG_WAIT_S = 0.5
BACKLOG_STATES = ("queued", "scheduled")


def backlog(metrics: str) -> int | None:
    """Jobs waiting in the queue, from ``/metrics``' text (``docqa_ingest_jobs`` in
    ``BACKLOG_STATES``); None when it does not say."""
    found = None
    for line in metrics.splitlines():
        for state in BACKLOG_STATES:
            if line.startswith(f'docqa_ingest_jobs{{state="{state}"}} '):
                found = (found or 0) + int(float(line.rsplit(" ", 1)[1]))
    return found


def phrase(document: int, version: int) -> str:
    """A word no other version of any document holds (letters only: stems leave it whole)."""
    letters = "bcdfghjklmnp"

    def spell(n: int) -> str:
        return "".join(letters[int(d)] for d in str(n))

    return f"zq{spell(document)}x{spell(version)}w"


@dataclass
class Entry:
    version: int = 0  # the latest acknowledged version's number (0: none yet)
    deleted: bool = False
    job_id: str | None = None
    # (version, deleted) states it may be in: the acknowledged one, and since then the outcome
    # of each request not acknowledged
    states: set[tuple[int, bool]] = field(default_factory=set)

    @property
    def certain(self) -> bool:
        return self.states <= {(self.version, self.deleted)}

    def acknowledged(self, version: int, deleted: bool) -> None:
        self.version, self.deleted = version, deleted
        self.states = {(version, deleted)}

    def maybe(self, version: int, deleted: bool) -> None:
        self.states |= {(self.version, self.deleted), (version, deleted)}


@dataclass
class Ledger:
    entries: dict[int, Entry] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)  # "<route> <status>"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, route: str, status: int | str) -> None:
        with self.lock:
            self.statuses[f"{route} {status}"] += 1

    def failures(self) -> int:
        return sum(n for key, n in self.statuses.items() if key.endswith(" 500"))

    def outages(self) -> int:
        return sum(n for key, n in self.statuses.items() if key.endswith(" 503"))


class Producer(threading.Thread):
    def __init__(
        self,
        client: httpx.Client,
        collection: str,
        seed: int,
        ledger: Ledger,
        sections: int = 6,
        pace_s: float = 0.1,
    ) -> None:
        super().__init__(name="chaos-producer", daemon=True)
        self.client, self.collection, self.ledger = client, collection, ledger
        self.random = random.Random(seed)
        self.sections, self.pace_s = sections, pace_s
        self.stop = threading.Event()
        self.versions: dict[int, int] = {}  # versions tried per document (each a new phrase)
        self.acknowledged: dict[int, str] = {}  # each document's acknowledged text
        self.waits = 0  # times it waited for the backlog to shrink
        # deletions answered 5xx or not at all, to send again: a deletion cut off half-way leaves
        # the document failed, saying "delete it again" (``DELETE_CUT_OFF``), as a client does
        self.cut_off: list[int] = []

    def text(self, document: int, version: int) -> str:
        words = [self.random.choice(WORDS) for _ in range(40 * self.sections)]
        words.insert(self.random.randrange(len(words)), phrase(document, version))
        return f"Document {document}, version {version}. " + " ".join(words) + "."

    def run(self) -> None:
        while not self.stop.is_set():
            if self.backlogged():
                self.stop.wait(BACKLOG_WAIT_S)
                continue
            self.step()
            self.stop.wait(self.pace_s)

    def backlogged(self) -> bool:
        """Whether the queue holds ``BACKLOG_BOUND`` jobs or more (unknown: no)."""
        response = self._call("GET", "/metrics", "metrics")
        if response is None or response.status_code != 200:
            return False
        waiting = backlog(response.text)
        full = waiting is not None and waiting >= BACKLOG_BOUND
        self.waits += full
        return full

    def step(self) -> None:
        if self.cut_off:  # a deletion answered 5xx or not at all: delete it again first
            self.delete(self.cut_off[0])
            return
        live = [d for d, e in self.ledger.entries.items() if e.version and not e.deleted]
        roll = self.random.random()
        if not live or roll < 0.45:
            self.post(len(self.versions) + 1, upload=False)
        elif roll < 0.75:
            self.post(self.random.choice(live), upload=self.random.random() < 0.4)
        elif roll < 0.85:
            self.repost(self.random.choice(live))
        else:
            self.delete(self.random.choice(live))

    def post(self, document: int, upload: bool) -> None:
        version = self.versions.get(document, 0) + 1
        self.versions[document] = version
        text = self.text(document, version)
        if self.send(document, version, text, upload):
            self.acknowledged[document] = text

    def repost(self, document: int) -> None:
        """The current version's content again, unchanged: a no-op for the service."""
        entry = self.ledger.entries[document]
        if document in self.acknowledged and entry.certain:
            self.send(document, entry.version, self.acknowledged[document], upload=False)

    def send(self, document: int, version: int, text: str, upload: bool) -> bool:
        """Post one version; True when acknowledged (the ledger moved to it)."""
        doc_id = f"doc-{document}"
        if upload:
            response = self._call(
                "POST",
                "/documents",
                "upload",
                data={"collection": self.collection, "ids": doc_id},
                files={"files": (f"{doc_id}.txt", text.encode(), "text/plain")},
            )
        else:
            body = {"collection": self.collection, "documents": [{"id": doc_id, "text": text}]}
            response = self._call("POST", "/documents", "post", json=body)
        with self.ledger.lock:
            entry = self.ledger.entries.setdefault(document, Entry())
            if response is None or response.status_code >= 500:
                entry.maybe(version, False)
            elif response.status_code == 202:
                entry.acknowledged(version, False)
                entry.job_id = response.json().get("job_id")
                return True
        return False

    def delete(self, document: int) -> None:
        response = self._call(
            "DELETE",
            f"/documents/doc-{document}",
            "delete",
            params={"collection": self.collection},
        )
        with self.ledger.lock:
            entry = self.ledger.entries[document]
            if response is None or response.status_code >= 500:
                entry.maybe(entry.version, True)
                if document not in self.cut_off:
                    self.cut_off.append(document)
                return
            if response.status_code in (204, 404):
                entry.acknowledged(entry.version, True)
        if document in self.cut_off:
            self.cut_off.remove(document)

    def finish(self, tries: int = 30) -> None:
        """Once stopped: delete again each deletion still cut off (``tries`` times at most)."""
        for _ in range(tries):
            if not self.cut_off:
                return
            self.delete(self.cut_off[0])
            time.sleep(1)

    def _call(self, method: str, path: str, route: str, **kwargs: Any) -> httpx.Response | None:
        try:
            response = self.client.request(method, path, timeout=30, **kwargs)
        except httpx.HTTPError:
            self.ledger.count(route, "no answer")
            self.stop.wait(0.5)
            return None
        self.ledger.count(route, response.status_code)
        if response.status_code >= 500:
            self.stop.wait(0.5)
        return response


class Reader(threading.Thread):
    def __init__(self, client: httpx.Client, collection: str, seed: int, ledger: Ledger) -> None:
        super().__init__(name="chaos-reader", daemon=True)
        self.client, self.collection, self.ledger = client, collection, ledger
        self.random = random.Random(seed + 1)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            question = " ".join(self.random.sample(WORDS, 3))
            kind = self.random.choice(("search", "keyword", "ask", "list", "record"))
            try:
                if kind in ("search", "keyword", "ask"):
                    body: dict[str, Any] = {"collection": self.collection, "question": question}
                    if kind == "keyword":
                        body["mode"] = "keyword"
                    if kind == "ask":
                        body["answer_mode"] = "extract"
                    path = "/ask" if kind == "ask" else "/search"
                    response = self.client.post(path, json=body, timeout=30)
                elif kind == "list":
                    listed: dict[str, str | int] = {"collection": self.collection, "limit": 20}
                    response = self.client.get("/documents", params=listed, timeout=30)
                else:
                    doc = f"doc-{self.random.randint(1, max(1, len(self.ledger.entries)))}"
                    one = {"collection": self.collection}
                    response = self.client.get(f"/documents/{doc}", params=one, timeout=30)
            except httpx.HTTPError:
                self.ledger.count(kind, "no answer")
                self.stop.wait(0.5)
                continue
            self.ledger.count(kind, response.status_code)
            self.stop.wait(0.05)
