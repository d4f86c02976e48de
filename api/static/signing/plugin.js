// The one small interface every signing-plugin adapter implements (vanilla JS, no inline script):
//
//   export const id = "vgca";                       // short name used in ?plugin=
//   export const label = "…";                       // Vietnamese name shown to the official
//   export const defaultEndpoint = "wss://…";       // where the plugin listens on the official's PC
//   export async function signHashes(hashesB64, {endpoint}) -> [{signature, certificate}]
//
// Each adapter signs SHA-256 hashes (base64) in "hash mode" and returns the raw signature value
// and the certificate (both base64) the token signed with. A new plugin is one new module.

export class PluginError extends Error {
  constructor(message) {
    super(message);
    this.name = "PluginError";
  }
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

// Plugins listen on the official's own PC: refuse any endpoint that is not loopback.
export function checkLoopback(endpoint) {
  let url;
  try {
    url = new URL(endpoint);
  } catch (e) {
    throw new PluginError("Địa chỉ phần mềm ký không hợp lệ.");
  }
  if (!LOOPBACK.has(url.hostname)) {
    throw new PluginError("Phần mềm ký phải chạy trên chính máy tính này (127.0.0.1).");
  }
  return url.toString().replace(/\/$/, "");
}

// Open a WebSocket, send one JSON message, resolve with the first JSON answer.
export function wsRequest(url, message, { timeoutMs = 120000, socket = null } = {}) {
  return new Promise((resolve, reject) => {
    const ws = socket || new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new PluginError("Phần mềm ký không trả lời (hết thời gian chờ)."));
    }, timeoutMs);
    const send = () => ws.send(JSON.stringify(message));
    ws.onmessage = (ev) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(ev.data));
      } catch (e) {
        reject(new PluginError("Phần mềm ký trả lời không đúng định dạng."));
      }
      if (!socket) ws.close();
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new PluginError("Không kết nối được phần mềm ký trên máy tính. Hãy kiểm tra phần mềm đã được cài và đang chạy."));
    };
    if (ws.readyState === WebSocket.OPEN) send();
    else ws.onopen = send;
  });
}

export function openSocket(url, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => { ws.close(); reject(new PluginError("timeout")); }, timeoutMs);
    ws.onopen = () => { clearTimeout(timer); resolve(ws); };
    ws.onerror = () => { clearTimeout(timer); reject(new PluginError("Không kết nối được phần mềm ký.")); };
  });
}

const registry = new Map();

export function register(adapter) {
  registry.set(adapter.id, adapter);
}

export function adapterFor(id) {
  const a = registry.get(id);
  if (!a) throw new PluginError("Không hỗ trợ phần mềm ký: " + id);
  return a;
}
