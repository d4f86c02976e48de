// Ban Cơ yếu Chính phủ — VGCA Sign Service: wss://127.0.0.1:8987/<Operation>, one message per
// socket. Hash mode: SignMsg {HashAlg, HashValue, Encode} -> {Status: 0, Signature, CertBase64}.
import { PluginError, checkLoopback, register, wsRequest } from "./plugin.js";

export const id = "vgca";
export const label = "VGCA Sign Service (Ban Cơ yếu Chính phủ)";
export const defaultEndpoint = "wss://127.0.0.1:8987";

export async function signHashes(hashesB64, { endpoint = defaultEndpoint } = {}) {
  const base = checkLoopback(endpoint);
  const out = [];
  for (const hash of hashesB64) {
    const resp = await wsRequest(base + "/SignMsg", { HashAlg: "SHA256", HashValue: hash, Encode: "RSA" });
    if (resp.Status !== 0) {
      throw new PluginError("VGCA Sign Service từ chối ký (mã " + resp.Status + ").");
    }
    out.push({ signature: resp.Signature, certificate: resp.CertBase64 });
  }
  return out;
}

register({ id, label, defaultEndpoint, signHashes });
