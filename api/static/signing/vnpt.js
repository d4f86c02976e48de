// VNPT-CA Plugin: wss://localhost:4433/plugin (then 4434, 4435). Hash mode: signHash.
// Request {id, method: "signHash", params: {hash, hashAlg: "SHA256"}} ->
// {id, code: 0, data: {signature, certificate}}. One socket serves the whole batch.
import { PluginError, checkLoopback, openSocket, register, wsRequest } from "./plugin.js";

export const id = "vnpt";
export const label = "VNPT-CA Plugin";
export const defaultEndpoint = "wss://localhost:4433";
const FALLBACK_PORTS = [4433, 4434, 4435];

async function connect(endpoint) {
  const base = new URL(checkLoopback(endpoint));
  const candidates = endpoint === defaultEndpoint
    ? FALLBACK_PORTS.map((p) => `wss://localhost:${p}/plugin`)
    : [`${base.protocol}//${base.host}/plugin`];
  for (const url of candidates) {
    try {
      return await openSocket(url);
    } catch (e) {
      // try the next port the plugin may use
    }
  }
  throw new PluginError("Không kết nối được VNPT-CA Plugin trên máy tính.");
}

export async function signHashes(hashesB64, { endpoint = defaultEndpoint } = {}) {
  const socket = await connect(endpoint);
  try {
    const out = [];
    let n = 0;
    for (const hash of hashesB64) {
      n += 1;
      const resp = await wsRequest(null, { id: n, method: "signHash", params: { hash, hashAlg: "SHA256" } }, { socket });
      if (resp.code !== 0 || !resp.data) {
        throw new PluginError("VNPT-CA Plugin từ chối ký (mã " + resp.code + ").");
      }
      out.push({ signature: resp.data.signature, certificate: resp.data.certificate });
    }
    return out;
  } finally {
    socket.close();
  }
}

register({ id, label, defaultEndpoint, signHashes });
