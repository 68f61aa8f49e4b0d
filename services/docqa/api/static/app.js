// docqa's web page: plain JavaScript, no build step, nothing loaded from elsewhere.
//
// Documents are untrusted: everything that comes from them (text, titles, file names,
// answers) reaches the page through textContent or text nodes, never as HTML. The page is
// served with a Content-Security-Policy that forbids inline script as a second wall.

const base = new URL("..", location.href); // the page lives at <service>/ui/
const KEY = "docqa.key";
const COLLECTION = "docqa.collection";
const PAGE_SIZE = 10;
const CITATION = /\[\s*(?:sources?\s*)?(\d+(?:\s*[-\u2013,]\s*\d+)*)\s*\]/gi;

const state = {
  key: sessionStorage.getItem(KEY) || "",
  collection: sessionStorage.getItem(COLLECTION) || "default",
  collections: [],
  searchMode: "hybrid",
  offset: 0,
  total: 0,
  sources: [],
  asking: null,
  refreshTimer: null,
};

const $ = (id) => document.getElementById(id);

// --- HTTP -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function url(path, query = {}) {
  const found = new URL(path.replace(/^\//, ""), base);
  for (const [name, value] of Object.entries(query)) found.searchParams.set(name, value);
  return found;
}

async function request(path, { query, headers = {}, ...options } = {}) {
  const sent = { ...headers };
  if (state.key) sent.Authorization = `Bearer ${state.key}`;
  let response;
  try {
    response = await fetch(url(path, query), { ...options, headers: sent });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, `Cannot reach the service (${error.message}).`);
  }
  if (!response.ok) throw await problem(response);
  return response;
}

// The problem+json `detail` (or an OpenAI-shaped error's message), as the service wrote it.
async function problem(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    detail = body.detail || (body.error && body.error.message) || detail;
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) showKeyForm(true);
  return new ApiError(response.status, detail);
}

async function getJson(path, options) {
  const response = await request(path, options);
  return response.status === 204 ? null : response.json();
}

function postJson(path, body, options = {}) {
  return request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...options,
  });
}

// Server-Sent Events from a fetch response (EventSource cannot POST): calls onEvent(name, data).
async function readEvents(response, onEvent) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}

// --- DOM helpers ----------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children); // strings become text nodes
  return node;
}

function showError(node, error) {
  node.textContent = error instanceof Error ? error.message : String(error);
  node.hidden = false;
}

function clearError(node) {
  node.textContent = "";
  node.hidden = true;
}

function where(metadata = {}) {
  const parts = [];
  if (metadata.page !== undefined) parts.push(`page ${metadata.page}`);
  if (metadata.slide !== undefined) parts.push(`slide ${metadata.slide}`);
  if (metadata.section !== undefined) parts.push(`section “${metadata.section}”`);
  return parts.join(", ");
}

// --- API key --------------------------------------------------------------------------

function showKeyForm(show) {
  $("key-form").hidden = !show && !state.key;
  if (show && !state.key) $("key-input").focus();
}

function setupKey() {
  showKeyForm(false);
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key-input").value.trim();
    if (state.key) sessionStorage.setItem(KEY, state.key);
    else sessionStorage.removeItem(KEY);
    $("key-input").value = "";
    start();
  });
  $("key-forget").addEventListener("click", () => {
    state.key = "";
    sessionStorage.removeItem(KEY);
    start();
  });
}

// --- Collections ----------------------------------------------------------------------

async function loadCollections() {
  const data = await getJson("/collections");
  state.collections = data.items;
  state.searchMode = data.search_mode;
  const names = data.items.map((c) => c.name);
  if (!sessionStorage.getItem(COLLECTION) && names.length && !names.includes(state.collection)) {
    state.collection = names[0]; // nothing chosen yet: the first one the key may read
  }
  renderCollections();
}

function current() {
  return state.collections.find((c) => c.name === state.collection);
}

function renderCollections() {
  const select = $("collection-select");
  const names = state.collections.map((c) => c.name);
  if (!names.includes(state.collection)) names.push(state.collection);
  select.replaceChildren(
    ...names.map((name) =>
      el("option", { value: name, text: current() || name !== state.collection ? name : `${name} (new)` }),
    ),
  );
  select.value = state.collection;
  const found = current();
  $("collection-info").textContent = found
    ? `${found.model} · ${found.rerank ? "reranker available" : "no reranker"}`
    : "empty: its first upload creates it";
  const rerank = state.collections.some((c) => c.rerank);
  $("ask-rerank-label").hidden = !rerank;
}

function useCollection(name) {
  state.collection = name;
  state.offset = 0;
  sessionStorage.setItem(COLLECTION, name);
  renderCollections();
  loadDocuments();
}

function setupCollections() {
  $("collection-select").addEventListener("change", (event) => useCollection(event.target.value));
  $("collection-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("collection-new").value.trim();
    if (name) useCollection(name);
    $("collection-new").value = "";
  });
}

// --- Documents ------------------------------------------------------------------------

async function upload(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  form.append("collection", state.collection);
  const names = [...files].map((f) => f.name).join(", ");
  const item = el("li", { dataset: { state: "sending" } });
  const label = el("span", { class: "label", text: `${names}: sending…` });
  const bar = el("progress", { max: "1", value: "0" });
  item.append(label, bar);
  $("jobs").prepend(item);
  try {
    const accepted = await (await request("/documents", { method: "POST", body: form })).json();
    if (!accepted.job_id) {
      item.dataset.state = "finished";
      label.textContent = `${names}: unchanged (already stored)`;
      bar.value = 1;
      return;
    }
    item.dataset.job = accepted.job_id;
    await followJob(accepted.job_id, item, label, bar, names);
  } catch (error) {
    item.dataset.state = "failed";
    label.textContent = `${names}: ${error.message}`;
    bar.remove();
  }
  loadDocuments();
  loadCollections().catch(() => {});
}

async function followJob(id, item, label, bar, names) {
  for (;;) {
    const job = await getJson(`/jobs/${encodeURIComponent(id)}`);
    item.dataset.state = job.state;
    const { done, total } = job.progress;
    bar.max = Math.max(total, 1);
    bar.value = total ? done : 0;
    const counted = total ? ` (${done} / ${total} chunks)` : "";
    label.textContent = `${names}: ${job.state}${counted}`;
    if (job.state === "failed") {
      label.textContent = `${names}: failed: ${job.error || "see the document's status"}`;
      return;
    }
    if (job.state === "finished") return;
    if (job.state !== "queued") loadDocuments();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function loadDocuments() {
  clearTimeout(state.refreshTimer);
  const error = $("documents-error");
  let page;
  try {
    page = await getJson("/documents", {
      query: { collection: state.collection, offset: state.offset, limit: PAGE_SIZE },
    });
    clearError(error);
  } catch (failure) {
    showError(error, failure);
    return;
  }
  if (page.items.length === 0 && page.total > 0 && state.offset > 0) {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    return loadDocuments();
  }
  state.total = page.total;
  $("document-table").querySelector("tbody").replaceChildren(...page.items.map(documentRow));
  $("documents-empty").hidden = page.total > 0;
  const last = Math.min(state.offset + page.items.length, page.total);
  $("doc-page").textContent = page.total ? `${state.offset + 1}–${last} of ${page.total}` : "";
  $("doc-prev").disabled = state.offset === 0;
  $("doc-next").disabled = state.offset + PAGE_SIZE >= page.total;
  if (page.items.some((d) => d.status === "queued")) {
    state.refreshTimer = setTimeout(loadDocuments, 2000);
  }
}

function documentRow(doc) {
  const name = el("td", { class: "name" }, el("span", { text: doc.title || doc.id }));
  if (doc.title && doc.title !== doc.id) name.append(el("div", { class: "muted small", text: doc.id }));
  const status = el("td", { class: `status status-${doc.status}`, text: doc.status });
  if (doc.error) status.append(el("div", { class: "small", text: doc.error }));
  const remove = el("button", { class: "delete", type: "button", text: "Delete" });
  remove.addEventListener("click", () => deleteDocument(doc, remove));
  return el(
    "tr",
    { dataset: { id: doc.id, status: doc.status } },
    name,
    status,
    el("td", { text: String(doc.chunks) }),
    el("td", {}, remove),
  );
}

async function deleteDocument(doc, button) {
  if (button.dataset.armed !== "yes") {
    button.dataset.armed = "yes";
    button.textContent = "Really delete?";
    setTimeout(() => {
      button.dataset.armed = "";
      button.textContent = "Delete";
    }, 5000);
    return;
  }
  button.disabled = true;
  try {
    await request(`/documents/${encodeURIComponent(doc.id)}`, {
      method: "DELETE",
      query: { collection: state.collection },
    });
  } catch (error) {
    showError($("documents-error"), error);
  }
  loadDocuments();
}

function setupDocuments() {
  const zone = $("drop-zone");
  $("file-input").addEventListener("change", (event) => {
    upload([...event.target.files]);
    event.target.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    upload([...event.dataTransfer.files]);
  });
  $("doc-prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    loadDocuments();
  });
  $("doc-next").addEventListener("click", () => {
    state.offset += PAGE_SIZE;
    loadDocuments();
  });
}

// --- Answers, citations, passages -----------------------------------------------------

// What a search left out because it was down ("degraded": ["keyword"]), in words.
function degradedNote(degraded) {
  if (!degraded || !degraded.length) return "";
  return `Found without ${degraded.join(", ")} search, which is unavailable right now.`;
}

// The answer as text nodes, each [n] a link that opens source n's passage. With the checked
// sentences (the final answer's), each is a span marked supported or not; a citation in a
// sentence that source n supports opens the passage with the supporting span highlighted.
function renderAnswer(node, answer, sources, sentences = []) {
  const text = answer.trimEnd();
  const parts = [];
  let at = 0;
  for (const sentence of sentences) {
    if (sentence.start < at || sentence.end > text.length) continue;
    parts.push(...citedText(text.slice(at, sentence.start), sources, null));
    const label = sentence.supported
      ? `Supported by source ${sentence.source} (score ${sentence.score.toFixed(2)})`
      : "Not supported by the sources";
    const mark = el(
      "span",
      { class: `sentence ${sentence.supported ? "supported" : "unsupported"}`, title: label },
      ...citedText(text.slice(sentence.start, sentence.end), sources, sentence),
    );
    if (sentence.corrected) mark.title += ` (cited [${sentence.cited.join(", ")}], corrected)`;
    parts.push(mark);
    at = sentence.end;
  }
  parts.push(...citedText(text.slice(at), sources, null));
  node.replaceChildren(...parts);
}

function citedText(text, sources, sentence) {
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(CITATION)) {
    parts.push(text.slice(at, match.index));
    parts.push("[");
    const pieces = match[1].split(/(\d+)/);
    for (const piece of pieces) {
      const n = Number(piece);
      if (piece && Number.isInteger(n) && /^\d+$/.test(piece)) {
        const span = sentence && sentence.supported && sentence.source === n ? sentence.span : null;
        parts.push(citeLink(n, sources, span));
      } else if (piece) {
        parts.push(piece);
      }
    }
    parts.push("]");
    at = match.index + match[0].length;
  }
  parts.push(text.slice(at));
  return parts.filter((part) => part !== "");
}

function citeLink(n, sources, span = null) {
  const link = el("a", { class: "cite", href: `#source-${n}`, dataset: { n: String(n) }, text: String(n) });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const source = sources()[n - 1];
    if (source) openPassage(source, span);
  });
  return link;
}

function groundedNote(grounded, answeredBy) {
  if (answeredBy === "extract") return "Quoted from the sources (no model wrote this answer).";
  if (grounded === null || grounded === undefined) return "";
  return `${Math.round(grounded * 100)}% of the answer is supported by its sources; unsupported sentences are marked.`;
}

// A refusal's sources ("not in your documents", answered_by none) are the closest passages,
// which do not answer: listed apart, under their own heading, each labelled so.
const CLOSEST_HEADING = "Closest passages, which do not answer";
const CLOSEST_NOTE = "closest passage, does not answer";

function renderSources(list, sources, { snippets = true, closest = false } = {}) {
  list.classList.toggle("closest", closest);
  list.dataset.kind = closest ? "closest" : "sources";
  const heading = list.id === "sources" ? $("sources-heading") : null;
  if (heading) heading.textContent = closest ? CLOSEST_HEADING : "Sources";
  if (closest && !heading) list.before(el("p", { class: "closest-heading small", text: CLOSEST_HEADING }));
  list.replaceChildren(
    ...sources.map((source) => {
      const title = el("a", {
        class: "title",
        href: `#source-${source.n}`,
        text: source.title || source.document_id,
      });
      title.addEventListener("click", (event) => {
        event.preventDefault();
        openPassage(source);
      });
      const item = el(
        "li",
        { id: list.id === "sources" ? `source-${source.n}` : undefined, value: String(source.n) },
        title,
        " ",
        el("span", { class: "score", text: `score ${source.score.toFixed(3)}` }),
      );
      if (closest) item.append(" ", el("span", { class: "closest-label small", text: CLOSEST_NOTE }));
      const place = where(source.metadata);
      if (place) item.append(" ", el("span", { class: "muted small", text: place }));
      if (snippets) {
        const text = source.text.length > 220 ? `${source.text.slice(0, 220)}…` : source.text;
        item.append(el("span", { class: "snippet", text }));
      }
      return item;
    }),
  );
}

async function openPassage(source, span = null) {
  const viewer = $("passage");
  $("passage-title").textContent = source.title || source.document_id;
  $("passage-where").textContent = [where(source.metadata), `score ${source.score.toFixed(3)}`]
    .filter(Boolean)
    .join(" · ");
  clearError($("passage-error"));
  const body = $("passage-body");
  const cited = chunkNode(source.chunk_id, source.text, source.metadata, true, span);
  body.replaceChildren(cited);
  body.dataset.state = "loading";
  viewer.hidden = false;
  $("passage-close").focus();
  cited.scrollIntoView({ block: "center" });
  try {
    const chunks = await getJson(`/documents/${encodeURIComponent(source.document_id)}/chunks`, {
      query: { collection: state.collection },
    });
    const nodes = chunks.map((c) =>
      c.id === source.chunk_id && c.text === source.text
        ? chunkNode(c.id, c.text, c.metadata, true, span)
        : chunkNode(c.id, c.text, c.metadata, c.id === source.chunk_id),
    );
    if (nodes.some((node) => node.classList.contains("cited"))) {
      body.replaceChildren(...nodes); // else the document changed since: keep the hit alone
      body.querySelector(".support, .cited").scrollIntoView({ block: "center" });
    }
  } catch (error) {
    showError($("passage-error"), `The rest of the document could not be shown: ${error.message}`);
  } finally {
    body.dataset.state = "loaded";
  }
}

// A chunk; ``span`` ({start, end} in its text): the part that supports a sentence, marked.
function chunkNode(id, text, metadata, cited, span = null) {
  const node = el("p", { class: cited ? "chunk cited" : "chunk", dataset: { id } });
  const place = where(metadata);
  if (place) node.append(el("span", { class: "where", text: place }));
  if (span && span.start >= 0 && span.end <= text.length && span.start < span.end) {
    const support = el("mark", { class: "support", text: text.slice(span.start, span.end) });
    node.append(text.slice(0, span.start), support, text.slice(span.end));
  } else {
    node.append(text);
  }
  return node;
}

function setupViewer() {
  const close = () => {
    $("passage").hidden = true;
  };
  $("passage-close").addEventListener("click", close);
  $("passage").addEventListener("click", (event) => {
    if (event.target === $("passage")) close();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
}

// --- Ask ------------------------------------------------------------------------------

function options() {
  const body = {
    collection: state.collection,
    top_k: Number($("ask-top-k").value) || 5,
    max_tokens: Number($("ask-max-tokens").value) || 256,
  };
  if ($("ask-mode").value) body.mode = $("ask-mode").value;
  if ($("ask-answer-mode").value) body.answer_mode = $("ask-answer-mode").value;
  if (!$("ask-rerank-label").hidden) body.rerank = $("ask-rerank").checked;
  return body;
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  if (state.asking) state.asking.abort();
  const controller = new AbortController();
  state.asking = controller;
  const error = $("ask-error");
  const answer = $("answer");
  clearError(error);
  state.sources = [];
  let text = "";
  $("answer-box").hidden = false;
  $("answer-state").textContent = "searching…";
  answer.dataset.state = "streaming";
  answer.replaceChildren();
  $("answer-note").hidden = true;
  renderSources($("sources"), []);
  $("ask-button").disabled = true;
  $("ask-stop").hidden = false;
  try {
    const response = await postJson("/ask", { question, stream: true, ...options() }, {
      signal: controller.signal,
    });
    await readEvents(response, (name, data) => {
      if (name === "token") {
        text += data.text;
        $("answer-state").textContent = "writing…";
        renderAnswer(answer, text, () => state.sources);
      } else if (name === "sources") {
        state.sources = data.sources;
        const note = [degradedNote(data.degraded), groundedNote(data.grounded, data.answered_by)].filter(Boolean).join(" ");
        $("answer-note").textContent = note;
        $("answer-note").hidden = !note;
        renderAnswer(answer, data.answer, () => state.sources, data.sentences || []);
        answer.dataset.answeredBy = data.answered_by || "";
        renderSources($("sources"), data.sources, { closest: data.answered_by === "none" });
        if (!data.sources.length) $("sources").append(el("li", { class: "muted", text: "none" }));
      } else if (name === "error") {
        showError(error, data.detail || data.title);
      }
    });
    $("answer-state").textContent = "";
  } catch (failure) {
    if (failure.name === "AbortError") {
      $("answer-state").textContent = "stopped";
    } else {
      $("answer-state").textContent = "";
      showError(error, failure);
    }
  } finally {
    answer.dataset.state = "done";
    $("ask-button").disabled = false;
    $("ask-stop").hidden = true;
    if (state.asking === controller) state.asking = null;
  }
}

// --- Compare --------------------------------------------------------------------------

function comparisons() {
  const rows = [
    ["hybrid", "hybrid (default)", { mode: "hybrid", rerank: false }],
    ["dense", "dense (by meaning)", { mode: "dense", rerank: false }],
    ["keyword", "keyword (BM25)", { mode: "keyword", rerank: false }],
  ];
  const found = current();
  if (found && found.rerank) rows.push(["rerank", "hybrid + rerank", { mode: "hybrid", rerank: true }]);
  rows.push(["none", "model alone (no retrieval)", { use_retrieval: false }]);
  return rows;
}

async function compare(event) {
  event.preventDefault();
  const question = $("compare-question").value.trim();
  if (!question) return;
  clearError($("compare-error"));
  const button = $("compare-run");
  button.disabled = true;
  const columns = comparisons().map(([mode, label, extra]) => {
    const answer = el("p", { class: "answer muted", text: "waiting…" });
    const sources = el("ol", { class: "sources" });
    const column = el("div", { class: "column", dataset: { mode, state: "waiting" } }, el("h3", { text: label }), answer, sources);
    return { column, answer, sources, extra };
  });
  $("compare-results").replaceChildren(...columns.map((c) => c.column));
  const max = Number($("ask-max-tokens").value) || 256;
  for (const { column, answer, sources, extra } of columns) {
    // One at a time: the generator answers one request at a time anyway.
    answer.textContent = "answering…";
    try {
      const body = { question, collection: state.collection, top_k: 5, max_tokens: max, ...extra };
      const result = await (await postJson("/ask", body)).json();
      answer.classList.remove("muted");
      renderAnswer(answer, result.answer, () => result.sources, result.sentences || []);
      renderSources(sources, result.sources, { snippets: false, closest: result.answered_by === "none" });
      const note = degradedNote(result.degraded);
      if (note) column.append(el("p", { class: "muted small", text: note }));
      if (extra.use_retrieval === false) sources.append(el("li", { class: "muted", text: "no sources: the model alone" }));
      column.dataset.state = "done";
    } catch (failure) {
      answer.classList.remove("muted");
      answer.replaceChildren(el("span", { class: "error", text: failure.message }));
      column.dataset.state = "failed";
    }
  }
  button.disabled = false;
}

// --- Start ----------------------------------------------------------------------------

async function start() {
  const error = $("error");
  clearError(error);
  try {
    await loadCollections();
  } catch (failure) {
    renderCollections();
    if (failure.status === 401) {
      showError(error, `${failure.message}. This service needs an API key: enter it above.`);
      return;
    }
    showError(error, failure);
  }
  showKeyForm(false);
  loadDocuments();
}

function setup() {
  setupKey();
  setupCollections();
  setupDocuments();
  setupViewer();
  $("ask-form").addEventListener("submit", ask);
  $("ask-stop").addEventListener("click", () => state.asking && state.asking.abort());
  $("compare-form").addEventListener("submit", compare);
  start();
}

setup();
