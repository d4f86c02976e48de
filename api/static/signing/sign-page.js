// The USB-token signing page: ask the server what to sign, let the plugin on this PC sign the
// SHA-256 hash with the token, hand the result back to the server which completes the PAdES
// signature. One document (/sign/{id}) or a batch (/sign/{id}?documents=a,b,c): one plugin
// session for all the hashes.
import { adapterFor, checkLoopback, PluginError } from "./plugin.js";
import "./vgca.js";
import "./vnpt.js";
import "./viettel.js";

const root = document.getElementById("sign");
const statusEl = document.getElementById("status");
const params = new URLSearchParams(window.location.search);

function show(text, cls) {
  statusEl.textContent = text;
  statusEl.className = cls || "";
}

function headers() {
  const h = { "Content-Type": "application/json" };
  // the web pages hand a short-lived token in data-token; API users keep theirs in sessionStorage
  const token = root.dataset.token || window.sessionStorage.getItem("ioffice.token");
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

async function api(path, body) {
  const r = await fetch(path, { method: "POST", headers: headers(), credentials: "same-origin", body: JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || "Máy chủ từ chối yêu cầu (" + r.status + ").");
  return data;
}

async function signOne(adapter, endpoint, documentId) {
  show("Đang chuẩn bị văn bản để ký…");
  const session = await api(`/api/v1/documents/${encodeURIComponent(documentId)}/sign`, { mode: "external", kind: "personal" });
  show("Đang ký bằng USB token (nhập mã PIN trên phần mềm ký nếu được hỏi)…");
  const [result] = await adapter.signHashes([session.hash_to_sign], { endpoint });
  show("Đang hoàn tất chữ ký số…");
  await api(`/api/v1/signing-sessions/${session.session_id}/complete`, { signature: result.signature, certificate: result.certificate });
  return 1;
}

async function signBatch(adapter, endpoint, documentIds) {
  show("Đang chuẩn bị " + documentIds.length + " văn bản để ký…");
  const batch = await api("/api/v1/signing-batches", { document_ids: documentIds, kind: "personal" });
  const pending = batch.results.filter((r) => r.status === "pending");
  const results = await adapter.signHashes(pending.map((r) => r.hash_to_sign), { endpoint });
  show("Đang hoàn tất chữ ký số…");
  const done = await api(`/api/v1/signing-batches/${batch.id}/signatures`, {
    signatures: pending.map((r, i) => ({ session_id: r.session_id, signature: results[i].signature, certificate: results[i].certificate })),
  });
  const signed = done.results.filter((r) => r.status === "signed").length;
  const failed = done.results.filter((r) => r.status === "failed");
  return { signed, failed };
}

async function run() {
  const button = document.getElementById("sign-button");
  button.disabled = true;
  try {
    const pluginId = params.get("plugin") || document.getElementById("plugin").value;
    const adapter = adapterFor(pluginId);
    const endpoint = params.get("endpoint") || adapter.defaultEndpoint;
    checkLoopback(endpoint); // refuse before anything is prepared on the server
    const batchIds = (params.get("documents") || "").split(",").filter(Boolean);
    if (batchIds.length) {
      const { signed, failed } = await signBatch(adapter, endpoint, batchIds);
      const tail = failed.length ? "; không ký được " + failed.length + ": " + failed.map((f) => f.detail).join(" | ") : "";
      show("Đã ký " + signed + "/" + batchIds.length + " văn bản" + tail + ".", failed.length ? "error" : "ok");
    } else {
      await signOne(adapter, endpoint, root.dataset.documentId);
      show("Đã ký số văn bản.", "ok");
    }
    root.dataset.state = "done";
  } catch (e) {
    show(e instanceof PluginError ? e.message : (e.message || "Không ký được văn bản."), "error");
    root.dataset.state = "error";
  } finally {
    button.disabled = false;
  }
}

if (params.get("plugin")) document.getElementById("plugin").value = params.get("plugin");
document.getElementById("sign-button").addEventListener("click", run);
root.dataset.state = "ready";
