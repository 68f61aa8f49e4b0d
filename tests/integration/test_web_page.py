"""The web page in a real browser (Debian's headless Chromium through Selenium and Debian's
chromedriver: nothing is downloaded) against the stack: upload a file, follow its job, ask and
watch the answer stream in, open a citation's passage, compare retrieval modes, delete the
document; the same at phone size (390x844); and a document full of HTML that must not run.

Screenshots go to ``$DOCQA_SCREENSHOTS`` (default ``build/screenshots``), kept as test
artifacts. Without chromium and chromedriver the tests skip, except in CI (``CI`` set), where
they fail: `.ci/run` installs both.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.stacks import private_stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(os.environ.get("DOCQA_SCREENSHOTS") or "build/screenshots")
PHONE = (390, 844)
DESKTOP = (1280, 1800)

PELORA = (
    "Mount Pelora is a volcano that last erupted in 1742, burying the valley town of Vessen "
    "under ash."
)
# With this one source, the tiny local model (temperature 0) answers starting with "[1]".
CITING_QUESTION = "Quote the source about Mount Pelora with its number, like [1] text."
HOSTILE_NAME = "<img src=x onerror=window.__xss=1>.md"
# The page's own title (front matter) is what sources show: hostile too, and the same string.
HOSTILE_TEXT = f"""---
title: "{HOSTILE_NAME}"
---
# Owl notes <img src=x onerror="window.__xss=2;document.title='pwned'">

<script>window.__xss = 3; document.title = "pwned";</script>

Owls hunt at night and fly silently. <b onmouseover="window.__xss=4">Barn owls</b> nest in barns.
"""

Driver = Any  # selenium.webdriver.Chrome
LOADED = '#passage-body[data-state="loaded"] .chunk.cited'  # the document's chunks are in


def need_browser() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        reason = (
            f"needs Debian's chromium and chromium-driver ({', '.join(missing)} missing; "
            "apt-get install chromium chromium-driver)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: in CI the browser test must run")
        pytest.skip(reason)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Callable[..., Driver]]:
    """Makes a headless Chromium, desktop-sized or emulating a 390x844 phone."""
    need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    made: list[Driver] = []

    def make(*, phone: bool = False) -> Driver:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for argument in (
            "--headless=new",
            "--no-sandbox",  # as root (CI)
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / f'profile-{len(made)}'}",
        ):
            options.add_argument(argument)
        if phone:
            width, height = PHONE
            metrics = {"width": width, "height": height, "pixelRatio": 2.0}
            options.add_experimental_option("mobileEmulation", {"deviceMetrics": metrics})
        else:
            options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
        driver = webdriver.Chrome(
            service=Service(executable_path=str(CHROMEDRIVER)), options=options
        )
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.quit()


def shot(driver: Driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


def wait(driver: Driver, what: Callable[[Driver], Any], timeout_s: float, why: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.1).until(what, message=why)


def css(driver: Driver, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver: Driver, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def open_collection(driver: Driver, base_url: str, name: str) -> None:
    driver.get(f"{base_url}/")
    assert driver.current_url == f"{base_url}/ui/"
    wait(driver, lambda d: css(d, "#collection-select option"), 30, "the page loaded")
    assert not css(driver, "#key-form").is_displayed()  # no keys configured
    css(driver, "#collection-new").send_keys(name)
    css(driver, "#collection-create").click()
    wait(driver, lambda d: css(d, "#collection-select").get_attribute("value") == name, 10, name)
    assert css(driver, "#error").is_displayed() is False


def upload(driver: Driver, path: Path) -> str:
    """Pick the file; wait for its job to finish and its row to say indexed; its id."""
    css(driver, "#file-input").send_keys(str(path))
    job = wait(driver, lambda d: css(d, "#jobs li[data-job]"), 60, "the upload's job")
    wait(driver, lambda d: job.get_attribute("data-state") in ("finished", "failed"), 180, "job")
    assert job.get_attribute("data-state") == "finished", job.text
    assert "finished (1 / 1 chunks)" in job.text
    row = '#document-table tr[data-status="indexed"]'
    found = wait(driver, lambda d: all_css(d, row), 30, f"{path.name} listed as indexed")
    return str(found[0].get_attribute("data-id"))


def pelora_collection(driver: Driver, base_url: str, folder: Path, prefix: str = "web") -> str:
    """A new collection holding ``pelora.md`` (``PELORA``), uploaded through the page; its name."""
    collection = f"{prefix}{uuid.uuid4().hex[:8]}"
    document = folder / "pelora.md"
    document.write_text(PELORA)
    open_collection(driver, base_url, collection)
    assert upload(driver, document) == "pelora.md"
    return collection


def ask(driver: Driver, question: str, max_tokens: int) -> list[str]:
    """Ask; return the answer's texts as they were shown while it streamed in."""
    css(driver, "#question").clear()
    css(driver, "#question").send_keys(question)
    css(driver, "#ask-max-tokens").clear()
    css(driver, "#ask-max-tokens").send_keys(str(max_tokens))
    driver.execute_script(  # WebDriver's script runs as the browser's devtools, not the page
        """
        window.__shown = [];
        const answer = document.getElementById("answer");
        new MutationObserver(() => {
          if (answer.dataset.state === "streaming") window.__shown.push(answer.textContent);
        }).observe(answer, {childList: true, subtree: true, characterData: true});
        """
    )
    css(driver, "#ask-button").click()
    wait(driver, lambda d: css(d, "#answer").get_attribute("data-state") == "done", 180, "answer")
    assert not css(driver, "#ask-error").is_displayed(), css(driver, "#ask-error").text
    return list(driver.execute_script("return window.__shown"))


def in_view(driver: Driver, element: Any) -> bool:
    return bool(
        driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1;",
            element,
        )
    )


def open_citation(driver: Driver, title: str, passage: str) -> None:
    citation = css(driver, "#answer a.cite")
    assert citation.text == "1"
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", citation)
    citation.click()
    wait(driver, lambda d: css(d, "#passage").is_displayed(), 10, "the passage viewer")
    assert css(driver, "#passage-title").text == title
    cited = wait(driver, lambda d: css(d, LOADED), 10, "the cited chunk in its document")
    assert passage in cited.text
    assert in_view(driver, cited)


def delete(driver: Driver, api: httpx.Client, collection: str, document_id: str) -> None:
    button = css(driver, f'#document-table tr[data-id="{document_id}"] button.delete')
    button.click()
    assert button.text == "Really delete?"
    button.click()
    wait(driver, lambda d: not all_css(d, "#document-table tbody tr"), 30, "the row gone")
    assert css(driver, "#documents-empty").is_displayed()
    listed = api.get("/documents", params={"collection": collection}).json()
    assert listed["total"] == 0


def assert_streamed(shown: list[str]) -> None:
    texts = [text for text in dict.fromkeys(shown) if text.strip()]
    assert len(texts) >= 2, f"the answer did not come in pieces: {texts}"
    assert len(texts[0]) < len(texts[-1])


def test_upload_ask_cite_compare_delete(
    browser: Callable[..., Driver], base_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    driver = browser()
    collection = pelora_collection(driver, base_url, tmp_path)
    shot(driver, "1-uploaded.png")

    shown = ask(driver, CITING_QUESTION, max_tokens=24)
    assert_streamed(shown)
    sources = all_css(driver, "#sources li")
    assert len(sources) == 1
    assert css(driver, "#sources li .title").text == "pelora.md"
    assert "score 0." in sources[0].text
    shot(driver, "2-answer.png")
    open_citation(driver, "pelora.md", "erupted in 1742")
    shot(driver, "3-passage.png")
    css(driver, "#passage-close").click()
    assert not css(driver, "#passage").is_displayed()

    css(driver, "#ask-max-tokens").clear()
    css(driver, "#ask-max-tokens").send_keys("12")
    css(driver, "#compare-question").send_keys("When did Mount Pelora last erupt?")
    css(driver, "#compare-run").click()
    columns = "#compare-results .column"
    states = lambda d: [c.get_attribute("data-state") for c in all_css(d, columns)]  # noqa: E731
    wait(driver, lambda d: "waiting" not in states(d), 300, "every comparison answered")
    found = {c.get_attribute("data-mode"): c for c in all_css(driver, columns)}
    assert list(found) == ["hybrid", "dense", "keyword", "none"]  # no reranker configured
    assert [c.get_attribute("data-state") for c in found.values()] == ["done"] * 4
    for mode in ("hybrid", "dense", "keyword"):
        assert "pelora.md" in found[mode].find_element("css selector", "ol").text, mode
    assert "no sources" in found["none"].text
    driver.execute_script("document.getElementById('compare').scrollIntoView()")
    shot(driver, "4-compare.png")

    delete(driver, api, collection, "pelora.md")


def test_sentences_are_marked_as_checked_and_a_quoted_answer_opens_its_span(
    browser: Callable[..., Driver], base_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    driver = browser()
    collection = pelora_collection(driver, base_url, tmp_path)

    # Generated (asked for: the default, auto, may quote instead): each sentence is marked as
    # the check says (the model at temperature 0 gives the API the same answer as the page).
    from selenium.webdriver.support.ui import Select

    Select(css(driver, "#ask-answer-mode")).select_by_value("generate")
    ask(driver, CITING_QUESTION, max_tokens=24)
    body = {
        "question": CITING_QUESTION,
        "collection": collection,
        "max_tokens": 24,
        "answer_mode": "generate",
    }
    checked = api.post("/ask", json=body).json()
    assert css(driver, "#answer").text.split() == checked["answer"].split()
    marks = [
        "supported" in mark.get_attribute("class").split()
        for mark in all_css(driver, "#answer .sentence")
    ]
    assert marks == [sentence["supported"] for sentence in checked["sentences"]]
    unsupported = all_css(driver, "#answer .sentence.unsupported")
    assert [mark.get_attribute("title") for mark in unsupported] == [
        "Not supported by the sources"
    ] * len(unsupported)
    assert f"{round(checked['grounded'] * 100)}% of the answer" in css(driver, "#answer-note").text
    shot(driver, "5-checked.png")

    # Quoted: no model; the citation opens the passage with the quoted span highlighted.
    Select(css(driver, "#ask-answer-mode")).select_by_value("extract")
    ask(driver, "When did Mount Pelora last erupt?", max_tokens=24)
    answer = css(driver, "#answer")
    assert answer.get_attribute("data-answered-by") == "extract"
    assert answer.text.startswith(f"{PELORA} [1]")
    assert all_css(driver, "#answer .sentence.supported")
    assert not all_css(driver, "#answer .sentence.unsupported")
    assert "Quoted from the sources" in css(driver, "#answer-note").text
    open_citation(driver, "pelora.md", "erupted in 1742")
    assert css(driver, "#passage-body .chunk.cited mark.support").text == PELORA
    shot(driver, "6-quoted.png")
    css(driver, "#passage-close").click()
    delete(driver, api, collection, "pelora.md")


# Nothing in the Pelora collection answers this: the service refuses ("not in your documents").
UNANSWERED = "What is the recommended dose of ibuprofen for a child?"
CLOSEST_HEADING = "Closest passages, which do not answer"


def test_a_refusal_lists_its_closest_passages_apart_from_sources(
    browser: Callable[..., Driver], base_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    driver = browser()
    collection = pelora_collection(driver, base_url, tmp_path, prefix="refuse")
    body = {"question": UNANSWERED, "collection": collection, "max_tokens": 24}
    refused = api.post("/ask", json=body).json()
    assert refused["answered_by"] == "none", refused
    assert [source["document_id"] for source in refused["sources"]] == ["pelora.md"]

    ask(driver, UNANSWERED, max_tokens=24)
    assert css(driver, "#answer").get_attribute("data-answered-by") == "none"
    assert css(driver, "#answer").text == refused["answer"]
    assert not all_css(driver, "#answer a.cite")  # nothing cited: nothing answered
    assert css(driver, "#sources-heading").text == CLOSEST_HEADING
    listed = css(driver, "#sources")
    assert listed.get_attribute("data-kind") == "closest"
    assert "closest" in listed.get_attribute("class").split()
    items = all_css(driver, "#sources li")
    assert [item.find_element("css selector", ".title").text for item in items] == ["pelora.md"]
    assert [item.find_element("css selector", ".closest-label").text for item in items] == [
        "closest passage, does not answer"
    ]
    # Visibly apart: a dashed frame that a list of sources does not have.
    assert listed.value_of_css_property("border-top-style") == "dashed"
    items[0].find_element("css selector", ".title").click()  # the passage still opens
    wait(driver, lambda d: css(d, LOADED), 10, "the closest passage in its document")
    shot(driver, "7-refusal.png")
    css(driver, "#passage-close").click()

    # An answered question lists its sources as such again.
    ask(driver, "When did Mount Pelora last erupt?", max_tokens=24)
    assert css(driver, "#answer").get_attribute("data-answered-by") != "none"
    assert css(driver, "#sources-heading").text == "Sources"
    assert css(driver, "#sources").get_attribute("data-kind") == "sources"
    assert not all_css(driver, "#sources .closest-label")
    assert css(driver, "#sources").value_of_css_property("border-top-style") != "dashed"
    delete(driver, api, collection, "pelora.md")


def test_the_page_works_at_phone_size(
    browser: Callable[..., Driver], base_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    driver = browser(phone=True)
    collection = pelora_collection(driver, base_url, tmp_path, prefix="phone")
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == list(PHONE)
    assert_streamed(ask(driver, CITING_QUESTION, max_tokens=24))
    overflow = driver.execute_script("return document.documentElement.scrollWidth")
    assert overflow <= PHONE[0], f"the page is {overflow} px wide at {PHONE[0]}"
    driver.execute_script("document.getElementById('ask').scrollIntoView()")
    shot(driver, "phone-answer.png")
    open_citation(driver, "pelora.md", "erupted in 1742")
    shot(driver, "phone-passage.png")
    css(driver, "#passage-close").click()
    delete(driver, api, collection, "pelora.md")


def test_html_in_a_document_is_shown_as_text_and_never_runs(
    browser: Callable[..., Driver], base_url: str, api: httpx.Client, tmp_path: Path
) -> None:
    driver = browser()
    collection = f"xss{uuid.uuid4().hex[:8]}"
    document = tmp_path / HOSTILE_NAME
    document.write_text(HOSTILE_TEXT)
    open_collection(driver, base_url, collection)
    document_id = upload(driver, document)
    name = css(driver, f'#document-table tr[data-id="{document_id}"] td.name span')
    assert name.text == HOSTILE_NAME  # the title, as text

    ask(driver, "When do owls hunt?", max_tokens=8)
    title = css(driver, "#sources li .title")
    assert title.text == HOSTILE_NAME
    title.click()
    cited = wait(driver, lambda d: css(d, LOADED), 10, "the passage")
    assert '<script>window.__xss = 3; document.title = "pwned";</script>' in cited.text
    assert '<img src=x onerror="window.__xss=2' in cited.text
    shot(driver, "untrusted-passage.png")
    for element in all_css(driver, "#passage .chunk, #sources li, #document-table td"):
        driver.execute_script(  # hovering a <b onmouseover> would run it, were it markup
            "arguments[0].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))", element
        )
    state = driver.execute_script(
        "return {xss: window.__xss === undefined ? null : window.__xss, title: document.title,"
        " images: document.querySelectorAll('img').length,"
        " scripts: [...document.scripts].map((s) => s.getAttribute('src')),"
        " bold: document.querySelectorAll('main b, #passage b').length}"
    )
    assert state == {"xss": None, "title": "docqa", "images": 0, "scripts": ["app.js"], "bold": 0}
    css(driver, "#passage-close").click()
    delete(driver, api, collection, document_id)


def test_a_key_is_asked_for_kept_for_the_session_and_refusals_show_their_detail(
    browser: Callable[..., Driver], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    reader, writer = f"reader-{uuid.uuid4().hex}", f"writer-{uuid.uuid4().hex}"
    keys = (
        f'[{{"key": "{reader}", "name": "reader", "collections": ["*"], "access": "read"}},'
        f' {{"key": "{writer}", "name": "writer", "collections": ["*"], "access": "write"}}]'
    )
    with private_stack(
        tmp_path_factory,
        "keyed-page",
        why="it configures API keys",
        extra_env={"DOCQA_API_KEYS": keys},
        generator=False,
    ) as stack:
        driver = browser()
        driver.get(f"{stack.base_url}/")
        error = wait(driver, lambda d: css(d, "#error").text, 30, "the 401 explained")
        assert "API key" in error
        assert css(driver, "#key-form").is_displayed()
        css(driver, "#key-input").send_keys(reader)
        css(driver, "#key-save").click()
        wait(driver, lambda d: not css(d, "#error").is_displayed(), 10, "the key accepted")
        assert driver.execute_script("return sessionStorage.getItem('docqa.key')") == reader
        document = tmp_path / "notes.txt"
        document.write_text("Owls hunt at night.")
        css(driver, "#file-input").send_keys(str(document))
        job = wait(driver, lambda d: css(d, "#jobs li[data-state=failed]"), 30, "the refusal")
        assert job.text == "notes.txt: key 'reader' is read-only"  # the problem's detail
        driver.refresh()  # the key lasts the browser session
        wait(driver, lambda d: css(d, "#collection-select option"), 30, "the page again")
        assert not css(driver, "#error").is_displayed()
        css(driver, "#key-forget").click()
        css(driver, "#key-input").send_keys(writer)
        css(driver, "#key-save").click()
        css(driver, "#file-input").send_keys(str(document))
        assert upload_state(driver) == "finished"
        shot(driver, "keyed.png")


def upload_state(driver: Driver) -> str:
    job = wait(driver, lambda d: css(d, "#jobs li[data-job]"), 60, "the upload's job")
    wait(driver, lambda d: job.get_attribute("data-state") in ("finished", "failed"), 180, "job")
    return str(job.get_attribute("data-state"))


def test_documents_are_listed_ten_to_a_page(
    browser: Callable[..., Driver], base_url: str, tmp_path: Path
) -> None:
    driver = browser()
    open_collection(driver, base_url, f"pages{uuid.uuid4().hex[:8]}")
    files = []
    for n in range(12):
        path = tmp_path / f"note-{n:02d}.txt"
        path.write_text(f"Note number {n} is about the colour of owl number {n}.")
        files.append(str(path))
    css(driver, "#file-input").send_keys("\n".join(files))  # one pick, twelve files, one job
    assert upload_state(driver) == "finished"
    rows = "#document-table tbody tr"
    wait(driver, lambda d: css(d, "#doc-page").text == "1\u201310 of 12", 30, "the first page")
    first = {r.get_attribute("data-id") for r in all_css(driver, rows)}
    assert len(first) == 10
    assert css(driver, "#doc-prev").get_attribute("disabled") is not None
    css(driver, "#doc-next").click()
    wait(driver, lambda d: css(d, "#doc-page").text == "11\u201312 of 12", 10, "the second page")
    second = {r.get_attribute("data-id") for r in all_css(driver, rows)}
    assert first | second == {Path(f).name for f in files} and not first & second
    assert css(driver, "#doc-next").get_attribute("disabled") is not None
    css(driver, "#doc-prev").click()
    wait(driver, lambda d: css(d, "#doc-page").text == "1\u201310 of 12", 10, "back to the first")
