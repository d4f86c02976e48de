"""Trust: certificates given as roots, the validation context (DSS, CMS revocation data, fetching),
the signer's fields of the report, revocation status."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diff.graph import _deref
from .report import SignatureReport
from .state import _AnalysisState

if TYPE_CHECKING:
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.status import TimestampSignatureStatus


def load_certificates(source: Any) -> list[bytes]:
    """DER bytes of every certificate in ``source``.

    ``source`` may be a cryptography or asn1crypto certificate, DER/PEM bytes, a path to a PEM/DER
    file or to a folder of them (non-certificate files are skipped), or an iterable of these.
    Raises ``ValueError`` for a path that does not exist.
    """
    out: list[bytes] = []
    if source is None:
        return out
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file():
                    try:
                        out.extend(_certs_from_bytes(child.read_bytes()))
                    except (OSError, ValueError):
                        continue
            return out
        if not p.exists():
            raise ValueError(f"không tìm thấy tệp chứng thư: {p}")
        return _certs_from_bytes(p.read_bytes())
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _certs_from_bytes(bytes(source))
    # cryptography certificate
    pb = getattr(source, "public_bytes", None)
    if callable(pb):
        from cryptography.hazmat.primitives.serialization import Encoding

        return [pb(Encoding.DER)]
    dump = getattr(source, "dump", None)
    if callable(dump):  # asn1crypto
        return [dump()]
    if isinstance(source, Iterable):
        for item in source:
            out.extend(load_certificates(item))
        return out
    raise ValueError("không nhận dạng được chứng thư số")


def _certs_from_bytes(data: bytes) -> list[bytes]:
    from asn1crypto import pem, x509

    if pem.detect(data):
        ders = [der for _t, _h, der in pem.unarmor(data, multiple=True) if _t == "CERTIFICATE"]
    else:
        ders = [data]
    out = []
    for der in ders:
        try:
            x509.Certificate.load(der).native  # noqa: B018 - force a full parse
        except Exception as exc:  # noqa: BLE001 - any parse error means "not a certificate"
            raise ValueError("tệp không chứa chứng thư số hợp lệ") from exc
        out.append(der)
    return out


class _TrustChecks(_AnalysisState):
    """Part of _Analysis: see signing.validation.analysis."""

    # -- trust ------------------------------------------------------------------------------------
    def _dss(self) -> DocumentSecurityStore | None:
        if not hasattr(self, "_dss_cache"):
            from pyhanko.sign.validation.dss import DocumentSecurityStore

            try:
                self._dss_cache = DocumentSecurityStore.read_dss(self.reader)
            except Exception:  # noqa: BLE001
                self._dss_cache = None
        return self._dss_cache

    def _validation_context(self, emb: Any, moment: datetime | None = None) -> Any:
        from asn1crypto import x509
        from pyhanko_certvalidator import ValidationContext

        roots = [x509.Certificate.load(d) for d in self.job.roots]
        others = [x509.Certificate.load(d) for d in self.job.others]
        ocsps: list[Any] = []
        crls: list[Any] = []
        dss = self._dss()
        if dss is not None:
            try:
                others.extend(dss.load_certs())
            except Exception:  # noqa: BLE001
                pass
            for ref in list(getattr(dss, "ocsps", []) or []):
                try:
                    from asn1crypto import ocsp as a_ocsp

                    ocsps.append(a_ocsp.OCSPResponse.load(_deref(ref).data))
                except Exception:  # noqa: BLE001
                    continue
            for ref in list(getattr(dss, "crls", []) or []):
                try:
                    from asn1crypto import crl as a_crl

                    crls.append(a_crl.CertificateList.load(_deref(ref).data))
                except Exception:  # noqa: BLE001
                    continue
        # revocation data archived inside the CMS signed attributes (Adobe style)
        try:
            for attr in emb.signer_info["signed_attrs"]:
                if attr["type"].native == "adobe_revocation_info_archival":
                    for val in attr["values"]:
                        for c in val["crl"] or []:
                            crls.append(c)
                        for o in val["ocsp"] or []:
                            ocsps.append(o)
        except Exception:  # noqa: BLE001
            pass
        kwargs: dict[str, Any] = dict(
            trust_roots=roots, other_certs=others, allow_fetching=self.job.allow_fetching,
            revocation_mode="soft-fail", crls=crls, ocsps=ocsps, moment=moment or self.now,
            retroactive_revinfo=True,
        )
        if self.job.allow_fetching:
            try:
                from pyhanko_certvalidator.fetchers.requests_fetchers import (
                    RequestsFetcherBackend,
                )

                kwargs["fetcher_backend"] = RequestsFetcherBackend(
                    per_request_timeout=self.job.fetch_timeout)
            except Exception:  # noqa: BLE001
                pass
        return ValidationContext(**kwargs)

    def _fill_signer(self, rep: SignatureReport, cert: Any) -> None:
        try:
            subj = cert.subject
            cn = subj.native.get("common_name")
            if isinstance(cn, list):
                cn = cn[0]
            rep.signer = cn or subj.human_friendly
            icn = cert.issuer.native.get("common_name")
            rep.issuer = (icn[0] if isinstance(icn, list) else icn) or cert.issuer.human_friendly
        except Exception:  # noqa: BLE001
            pass

    def _fill_signer_from_cms(self, rep: SignatureReport, sig_obj: Any) -> None:
        try:
            from asn1crypto import cms

            raw = bytes(sig_obj.raw_get("/Contents").original_bytes)
            sd = cms.ContentInfo.load(raw)["content"]
            certs = [c.chosen for c in sd["certificates"]]
            sid = sd["signer_infos"][0]["sid"]
            for c in certs:
                if sid.name == "issuer_and_serial_number" and c.serial_number == sid.chosen[
                        "serial_number"].native:
                    self._fill_signer(rep, c)
                    return
            if certs:
                self._fill_signer(rep, certs[0])
        except Exception:  # noqa: BLE001
            pass

    def _fill_from_status(self, rep: SignatureReport, st: Any, emb: Any, vc: Any,
                          trust_st: Any = None, trust_vc: Any = None) -> None:
        trust_st = trust_st or st
        trust_vc = trust_vc or vc
        self._fill_signer(rep, st.signing_cert)
        rep.intact = bool(st.intact)
        rep.valid = bool(st.valid)
        if not rep.intact:
            rep.problems.append("Tài liệu đã bị thay đổi sau khi ký: giá trị băm không khớp.")
        elif not rep.valid:
            rep.problems.append("Chữ ký số không đúng về mặt mật mã.")
        trusted = bool(trust_st.trusted) and not trust_st.revoked
        if rep.kind == "document_timestamp":
            ts = getattr(st, "timestamp", None)
            rep.timestamp = ts.isoformat() if ts else None
            rep.signing_time = rep.timestamp
        else:
            sr = getattr(st, "signer_reported_dt", None)
            rep.signing_time = sr.isoformat() if sr else None
            tsv = getattr(st, "timestamp_validity", None)
            if tsv is not None:
                rep.timestamp = tsv.timestamp.isoformat() if tsv.timestamp else None
                if not (tsv.intact and tsv.valid):
                    rep.valid = False
                    rep.problems.append("Dấu thời gian của chữ ký không hợp lệ.")
                elif not tsv.trusted:
                    trusted = False
                    rep.problems.append("Dấu thời gian của chữ ký không do đơn vị cấp dấu thời "
                                        "gian tin cậy cấp.")
            if getattr(st, "seed_value_constraint_error", None) is not None:
                rep.problems.append("Chữ ký không tuân thủ ràng buộc của trường chữ ký.")
        rep.revocation = self._revocation(trust_st, trust_vc)
        if rep.revocation == "revoked":
            trusted = False
            rep.problems.append("Chứng thư số của người ký đã bị thu hồi.")
        elif not trusted and rep.intact and rep.valid and not trust_st.trusted:
            rep.problems.append("Chứng thư số của người ký không chuỗi được tới một tổ chức "
                                "chứng thực gốc được tin cậy (hoặc đã hết hạn, sai mục đích "
                                "sử dụng).")
        rep.trusted = trusted and rep.intact and rep.valid
        rep.docmdp = int(emb.docmdp_level.value) if emb.docmdp_level is not None else None

    def _revocation(self, st: Any, vc: Any) -> str:
        if st.revoked:
            return "revoked"
        moment = getattr(vc, "moment", None)
        cert = st.signing_cert
        try:
            serial = cert.serial_number
            issuer = cert.issuer
            found_good = False
            for resp in vc.ocsps:
                try:
                    basic = resp["response_bytes"]["response"].parsed
                    for single in basic["tbs_response_data"]["responses"]:
                        if single["cert_id"]["serial_number"].native != serial:
                            continue
                        status = single["cert_status"].name
                        if status == "revoked":
                            when = single["cert_status"].chosen["revocation_time"].native
                            if moment is None or when is None or when <= moment:
                                return "revoked"
                            found_good = True
                            continue
                        if status == "good":
                            found_good = True
                except Exception:  # noqa: BLE001
                    continue
            for crl in vc.crls:
                try:
                    if crl.issuer != issuer:
                        continue
                    revoked = crl["tbs_cert_list"]["revoked_certificates"]
                    for entry in revoked or []:
                        if entry["user_certificate"].native == serial:
                            when = entry["revocation_date"].native
                            if moment is None or when is None or when <= moment:
                                return "revoked"
                    found_good = True
                except Exception:  # noqa: BLE001
                    continue
            if found_good and st.validation_path is not None:
                return "good"
        except Exception:  # noqa: BLE001
            pass
        return "unknown"

    def _has_revinfo_in_dss(self, cert: Any) -> bool:
        dss = self._dss()
        if dss is None:
            return False
        from asn1crypto import crl as a_crl
        from asn1crypto import ocsp as a_ocsp

        for ref in list(getattr(dss, "ocsps", []) or []):
            try:
                resp = a_ocsp.OCSPResponse.load(_deref(ref).data)
                basic = resp["response_bytes"]["response"].parsed
                for single in basic["tbs_response_data"]["responses"]:
                    if single["cert_id"]["serial_number"].native == cert.serial_number:
                        return True
            except Exception:  # noqa: BLE001
                continue
        for ref in list(getattr(dss, "crls", []) or []):
            try:
                crl = a_crl.CertificateList.load(_deref(ref).data)
                if crl.issuer == cert.issuer:
                    return True
            except Exception:  # noqa: BLE001
                continue
        return False


def _signer_key_usage() -> Any:
    """Signing certificates must allow digital signature or non-repudiation (either suffices:
    agency seals often carry only ``digitalSignature``)."""
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                               match_all_key_usages=False)


def _proven_signing_time(st: Any) -> datetime | None:
    """Time proven by a valid, trusted signature timestamp token, if any."""
    tsv: TimestampSignatureStatus | None = getattr(st, "timestamp_validity", None)
    if tsv is not None and tsv.intact and tsv.valid and tsv.trusted and tsv.timestamp:
        return tsv.timestamp
    return None


def _declares_revinfo(cert: Any) -> bool:
    """Whether a certificate names a CRL distribution point or an OCSP responder."""
    try:
        return bool(cert.crl_distribution_points or cert.ocsp_urls)
    except Exception:  # noqa: BLE001
        return True
