// Heron's web UI: the pages' actions, calling the JSON API with the
// session cookie and the page's CSRF token. No framework, no build step.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

/** Call the API; resolves to the parsed JSON, rejects with its message. */
async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrf(), ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!response.ok) {
    const message = data?.error?.message || data?.detail || `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percent = (v) => `${Math.round(v * 100)}%`;

/** A type id from a name, as the server makes it. */
function slug(name) {
  let id = name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  if (/^[0-9]/.test(id)) id = `type_${id}`;
  return id.slice(0, 64);
}

function say(element, message, isError) {
  if (!element) return;
  element.textContent = message;
  element.classList.toggle("error", Boolean(isError));
}

// ---- Upload ---------------------------------------------------------------

function setUpUpload() {
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  if (!drop || !input) return;
  const choose = () => input.click();
  drop.addEventListener("click", choose);
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); choose(); } });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    uploadAll([...e.dataTransfer.files]);
  });
  input.addEventListener("change", () => { uploadAll([...input.files]); input.value = ""; });
}

function uploadAll(files) {
  const status = document.getElementById("upload-status");
  if (!files.length) return;
  say(status, `Uploading ${files.length} file${files.length > 1 ? "s" : ""}…`);
  document.getElementById("results").classList.remove("hidden");
  let finished = 0;
  for (const file of files) {
    uploadOne(file).finally(() => {
      finished += 1;
      if (finished === files.length) say(status, `All ${files.length} done.`);
    });
  }
}

function resultRow(file) {
  const row = document.createElement("tr");
  row.dataset.file = file.name;
  const name = document.createElement("td");
  name.textContent = file.name;
  const progressCell = document.createElement("td");
  const progress = document.createElement("progress");
  progress.max = 100; progress.value = 0;
  progress.setAttribute("aria-label", `Upload of ${file.name}`);
  progressCell.append(progress);
  const label = document.createElement("td");
  label.className = "label"; label.textContent = "uploading";
  const confidence = document.createElement("td");
  confidence.className = "confidence";
  const link = document.createElement("td");
  row.append(name, progressCell, label, confidence, link);
  document.querySelector("#results tbody").append(row);
  return { row, progress, label, confidence, link };
}

async function uploadOne(file) {
  const cells = resultRow(file);
  try {
    const answer = await sendFile(file, (share) => { cells.progress.value = Math.round(share * 90); });
    cells.label.textContent = "classifying";
    const result = await finalResult(answer);
    cells.progress.value = 100;
    const labelAs = document.getElementById("label-as")?.value;
    let label = result.label;
    if (labelAs && result.document_id) {
      await api("POST", `/v1/documents/${result.document_id}/review`, { action: "correct", label: labelAs });
      label = `${labelAs} (labelled)`;
    }
    cells.label.textContent = label;
    cells.confidence.textContent = percent(result.confidence);
    if (result.errors?.length) cells.label.textContent += ` — ${result.errors[0].message}`;
    if (result.document_id) {
      const a = document.createElement("a");
      a.href = `/ui/documents/${result.document_id}`;
      a.textContent = "Open";
      cells.link.append(a);
    }
    cells.row.dataset.label = result.label;
    cells.row.classList.add("done");
  } catch (error) {
    cells.label.textContent = `failed: ${error.message}`;
    cells.label.classList.add("error");
    cells.row.classList.add("failed");
  }
}

/** POST one file with upload progress; resolves to the parsed answer. */
function sendFile(file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("files", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", "/v1/files");
    request.setRequestHeader("X-CSRF-Token", csrf());
    request.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    request.onload = () => {
      let data = null;
      try { data = JSON.parse(request.responseText); } catch (_) { data = null; }
      if (request.status >= 200 && request.status < 300) resolve(data);
      else reject(new Error(data?.error?.message || `upload failed (${request.status})`));
    };
    request.onerror = () => reject(new Error("the connection failed; try again"));
    request.send(form);
  });
}

/** The file's result: at once (small batches), or by polling its job. */
async function finalResult(answer) {
  const results = Array.isArray(answer) ? answer : answer?.results;
  if (results?.length) return results[0];
  const job = answer?.job_id;
  if (!job) throw new Error("unexpected answer from the server");
  for (let attempt = 0; attempt < 600; attempt += 1) {
    await sleep(700);
    const state = await api("GET", `/v1/jobs/${job}`);
    if (state.results?.length && ["done", "completed", "failed", "cancelled"].includes(state.status)) return state.results[0];
    if (state.status === "failed" || state.status === "cancelled") throw new Error(state.error_message || state.status);
  }
  throw new Error("still processing; see the job later");
}

// ---- Review ---------------------------------------------------------------

function setUpReview() {
  const form = document.getElementById("review");
  if (!form) return;
  const documentId = form.dataset.document;
  const status = document.getElementById("review-status");
  const changedFields = () => {
    const fields = {};
    for (const input of form.querySelectorAll(".field-value")) {
      if (input.value !== input.dataset.original) fields[input.name] = input.value;
    }
    return Object.keys(fields).length ? fields : undefined;
  };
  const send = async (action, label) => {
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    say(status, "Saving…");
    try {
      const saved = await api("POST", `/v1/documents/${documentId}/review`, { action, label, fields: changedFields() });
      say(status, `Saved: ${saved.action.replace("_", " ")} → ${saved.label}.`);
      document.body.dataset.reviewed = saved.label;
      const next = await api("GET", "/v1/review/queue?limit=2").catch(() => null);
      const item = next?.items?.find((i) => i.document_id !== documentId);
      await sleep(900);
      window.location.assign(item ? `/ui/documents/${item.document_id}` : "/ui/review");
    } catch (error) {
      say(status, `Not saved: ${error.message}`, true);
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  };
  form.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "accept") send("accept");
    else if (action === "correct") send("correct", button.dataset.label);
    else if (action === "correct-other") send("correct", document.getElementById("other-type").value);
    else if (action === "new_type") {
      const name = document.getElementById("new-type").value.trim();
      if (!name) { say(status, "Type a name for the new type first.", true); return; }
      send("new_type", slug(name));
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.closest("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    const button = form.querySelector(`button[data-key="${e.key.toLowerCase()}"]`);
    if (button && !button.disabled) { e.preventDefault(); button.click(); }
  });
  const unmask = document.getElementById("unmask");
  unmask?.addEventListener("click", async () => {
    try {
      const response = await fetch(`/v1/documents/${unmask.dataset.document}/text?redact=false`, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`${response.status}`);
      document.getElementById("text").textContent = await response.text();
      unmask.remove();
    } catch (error) {
      say(status, `Could not load the text: ${error.message}`, true);
    }
  });
}

// ---- Models ---------------------------------------------------------------

async function followRun(runId, status) {
  for (let attempt = 0; attempt < 1200; attempt += 1) {
    const run = await api("GET", `/v1/models/runs/${runId}`);
    if (run.state === "done") { say(status, "Challenger trained. Loading the comparison…"); window.location.reload(); return; }
    if (run.state === "failed") { say(status, `Training failed: ${run.error}`, true); return; }
    say(status, `Training run ${runId.slice(0, 8)} is ${run.state}…`);
    await sleep(1500);
  }
}

function setUpModels() {
  const status = document.getElementById("train-status");
  const modelStatus = document.getElementById("model-status");
  const train = document.getElementById("train");
  train?.addEventListener("click", async () => {
    train.disabled = true;
    try {
      const run = await api("POST", "/v1/models/train");
      await followRun(run.run_id, status);
    } catch (error) {
      say(status, `Could not start training: ${error.message}`, true);
      train.disabled = false;
    }
  });
  if (status?.dataset.run) followRun(status.dataset.run, status).catch((e) => say(status, e.message, true));
  const change = async (path, message) => {
    say(modelStatus, message);
    try { await api("POST", path); window.location.reload(); }
    catch (error) { say(modelStatus, `Not changed: ${error.message}`, true); }
  };
  for (const button of document.querySelectorAll("button.promote, #promote-latest")) {
    button.addEventListener("click", () => change(`/v1/models/${button.dataset.model}/promote`, "Promoting…"));
  }
  for (const button of document.querySelectorAll("button.rollback")) {
    button.addEventListener("click", () => change("/v1/models/rollback", "Rolling back…"));
  }
}

// ---- Types ----------------------------------------------------------------

function setUpTypes() {
  const form = document.getElementById("define-type");
  if (!form) return;
  const status = document.getElementById("type-status");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    try {
      const defined = await api("POST", "/v1/types", {
        name: data.get("name"), parent: data.get("parent"), description: data.get("description") || "",
      });
      say(status, `Defined ${defined.id}. Now upload examples of it…`);
      window.location.assign(`/ui/upload?label=${encodeURIComponent(defined.id)}`);
    } catch (error) {
      say(status, `Not defined: ${error.message}`, true);
    }
  });
  for (const button of document.querySelectorAll("button.propose")) {
    button.addEventListener("click", () => {
      document.getElementById("type-name").value = button.dataset.name;
      document.getElementById("type-name").focus();
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  setUpUpload();
  setUpReview();
  setUpModels();
  setUpTypes();
});
