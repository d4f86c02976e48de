"""Signatures whose cryptography is intact but old or unusual: the legacy ``adbe.pkcs7.sha1``
format, weak hash algorithms (SHA-1) and CMS with more than one SignerInfo. Their integrity is
judged like any other signature's; what is weak about them is a problem of trust."""
from __future__ import annotations

import contextvars
import hashlib
from dataclasses import dataclass
from typing import Any

WEAK_ALGORITHM = ("Chữ ký dùng thuật toán băm đã lỗi thời (SHA-1): dữ liệu không bị thay đổi, "
                  "nhưng thuật toán này không còn đủ an toàn nên chữ ký không được coi là tin "
                  "cậy.")
LEGACY_SHA1 = ("Chữ ký theo định dạng cũ adbe.pkcs7.sha1 (băm SHA-1): dữ liệu không bị thay đổi, "
               "nhưng định dạng này không còn đủ an toàn nên chữ ký không được coi là tin cậy.")
SEVERAL_SIGNERS = ("Dữ liệu chữ ký (CMS) chứa {n} người ký; chỉ người ký đầu tiên được kiểm "
                   "tra, nên chữ ký không được coi là tin cậy.")

_first_signer = contextvars.ContextVar("first_signer", default=False)
_installed = False


def allow_several_signer_infos() -> None:
    """Let pyHanko read CMS values with several SignerInfos (it requires exactly one) by using
    the first, within analyses that set :data:`_first_signer` only."""
    global _installed
    if _installed:
        return
    import pyhanko.sign.general as general
    import pyhanko.sign.validation.generic_cms as generic_cms
    import pyhanko.sign.validation.pdf_embedded as pdf_embedded

    original = general.extract_signer_info

    def extract(signed_data: Any) -> Any:
        infos = signed_data["signer_infos"]
        if _first_signer.get() and len(infos) > 1:
            return infos[0]
        return original(signed_data)

    for mod in (general, generic_cms, pdf_embedded):
        # pyHanko's validation modules import the function without re-exporting it (not in their
        # ``__all__``), so the type checker does not see it there; each module's own binding is
        # the one its callers use, hence replaced in each
        mod.extract_signer_info = extract  # type: ignore[attr-defined]
    _installed = True


def signer_info_count(sig_obj: Any) -> int:
    from asn1crypto import cms
    from pyhanko.pdf_utils import generic

    try:
        raw = sig_obj.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW)
        sd = cms.ContentInfo.load(bytes(raw.original_bytes))["content"]
        return len(sd["signer_infos"])
    except Exception:  # noqa: BLE001
        return 1


def weak_policy() -> Any:
    """pyHanko's algorithm policy without the SHA-1 ban (for integrity only)."""
    from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
    from pyhanko_certvalidator.policy_decl import DisallowWeakAlgorithmsPolicy

    return CMSAlgorithmUsagePolicy.lift_policy(
        DisallowWeakAlgorithmsPolicy(weak_hash_algos=frozenset()))


@dataclass
class Sha1Status:
    """What the rest of the analysis reads from a pyHanko status, for an adbe.pkcs7.sha1 one."""

    intact: bool
    valid: bool
    trusted: bool
    revoked: bool
    signing_cert: Any
    validation_path: Any
    signer_reported_dt: Any
    coverage: Any
    diff_result: Any
    revocation_details: Any = None
    timestamp_validity: Any = None
    seed_value_constraint_error: Any = None


async def validate_sha1(emb: Any, data: bytes, vc: Any, key_usage: Any) -> Sha1Status:
    """adbe.pkcs7.sha1: the CMS signs (encapsulates) the SHA-1 digest of the byte ranges."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    a, b, c, d = (int(x) for x in emb.byte_range)
    digest = hashlib.sha1(data[a:a + b] + data[c:c + d]).digest()
    content = emb.signed_data["encap_content_info"]["content"].native

    detached = emb.signed_data.copy()
    detached["encap_content_info"] = type(detached["encap_content_info"])({"content_type": "data"})
    st = await async_validate_detached_cms(content or b"", detached,
                                           signer_validation_context=vc,
                                           key_usage_settings=key_usage,
                                           algorithm_policy=weak_policy())
    try:
        diff = emb.evaluate_modifications()
    except Exception:  # noqa: BLE001
        diff = None
    return Sha1Status(intact=bool(st.intact) and content == digest, valid=bool(st.valid),
                      trusted=bool(st.trusted), revoked=bool(st.revoked),
                      signing_cert=st.signing_cert, validation_path=st.validation_path,
                      signer_reported_dt=st.signer_reported_dt,
                      coverage=emb.evaluate_signature_coverage(), diff_result=diff,
                      revocation_details=getattr(st, "revocation_details", None))
