import httpx
import pytest

from docqa.client.transport import Api, retry_after_s


def api_answering(
    answers: list[httpx.Response | Exception], slept: list[float]
) -> tuple[Api, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = httpx.Client(transport=httpx.MockTransport(handle), base_url="http://docqa")
    return Api(client, attempts=4, backoff_s=0.5, sleep=slept.append), seen


def test_429_and_503_are_retried_honouring_retry_after() -> None:
    slept: list[float] = []
    answers: list[httpx.Response | Exception] = [
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.Response(200, json={"ok": True}),
    ]
    api, seen = api_answering(answers, slept)
    assert api.request("GET", "/x").json() == {"ok": True}
    assert slept == [7.0, 1.0, 2.0] and len(seen) == 4 and api.retries == 3


def test_the_last_answer_is_returned_when_attempts_run_out() -> None:
    slept: list[float] = []
    api, seen = api_answering([httpx.Response(503)] * 4, slept)
    assert api.request("GET", "/x").status_code == 503
    assert len(seen) == 4 and len(slept) == 3


def test_other_errors_are_not_retried() -> None:
    slept: list[float] = []
    api, seen = api_answering([httpx.Response(422, json={"detail": "bad"})], slept)
    assert api.request("POST", "/x").status_code == 422 and slept == [] and len(seen) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_s("12") == 12.0
    assert retry_after_s(None) == 0.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_s("soon") == 0.0


def test_stored_pages_through_the_collection_and_posts_ids_with_files() -> None:
    pages = [
        httpx.Response(
            200,
            json={
                "items": [{"id": "a/b.md", "content_hash": "h", "status": "indexed"}],
                "total": 2,
            },
        ),
        httpx.Response(
            200, json={"items": [{"id": "c", "content_hash": "g", "status": "failed"}], "total": 2}
        ),
    ]
    api, seen = api_answering(list(pages), [])
    assert list(api.stored("col")) == [("a/b.md", "h", "indexed"), ("c", "g", "failed")]
    assert [r.url.params["offset"] for r in seen] == ["0", "1"]


@pytest.mark.parametrize("document_id", ["a/b c.md", "q?#%.md"])
def test_delete_quotes_the_id_keeping_slashes(document_id: str) -> None:
    api, seen = api_answering([httpx.Response(204)], [])
    api.delete("col", document_id)
    assert seen[0].url.path == f"/documents/{document_id}"
    assert "?" not in seen[0].url.raw_path.decode().split("?collection")[0]
