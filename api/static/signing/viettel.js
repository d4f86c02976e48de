// Viettel-CA SignPlugin: HTTP on http://127.0.0.1:14007. Hash mode: function "Sign" with inData
// (base64 SHA-256) -> {code: 0, outData: signature, certificate}.
import { PluginError, checkLoopback, register } from "./plugin.js";

export const id = "viettel";
export const label = "Viettel-CA SignPlugin";
export const defaultEndpoint = "http://127.0.0.1:14007";

export async function signHashes(hashesB64, { endpoint = defaultEndpoint } = {}) {
  const url = checkLoopback(endpoint) + "/";
  const out = [];
  for (const hash of hashesB64) {
    let resp;
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ function: "Sign", inData: hash, hashAlg: "SHA256" }),
      });
      resp = await r.json();
    } catch (e) {
      throw new PluginError("Không kết nối được Viettel-CA SignPlugin trên máy tính.");
    }
    if (resp.code !== 0) {
      throw new PluginError("Viettel-CA SignPlugin từ chối ký (mã " + resp.code + ").");
    }
    out.push({ signature: resp.outData, certificate: resp.certificate });
  }
  return out;
}

register({ id, label, defaultEndpoint, signHashes });
