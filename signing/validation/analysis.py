"""The analysis of one document: drives byte ranges, trust, levels, the change rules and the verdict."""
from __future__ import annotations

import asyncio
import io
import logging
from datetime import UTC, datetime
from typing import Any

from . import legacy, people
from .byte_range import _ByteRangeChecks
from .diff.forms import _FormAndAnnotationRules
from .diff.graph import _deref, _pget
from .diff.rules import _ChangeRules
from .digests import PrefixHashes
from .isolation import _Job, _quiet_library_loggers
from .levels import _LevelRules
from .limits import _MAX_REVISIONS, _MAX_SIGNATURES
from .report import SUMMARIES, SignatureReport, ValidationReport
from .trust import _proven_signing_time, _signer_key_usage, _TrustChecks
from .verdict import _Verdict

logger = logging.getLogger("signing.validation")

_MAX_HASHED_REVISIONS = 32


def _open_reader(data: bytes) -> Any:
    """pyHanko's reader over the document; when the file ends with more blank padding than the
    reader looks through for ``%%EOF``, over the document without it (the padding is reported
    by the verdict)."""
    import re

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return PdfFileReader(io.BytesIO(data), strict=False)
    except Exception:  # noqa: BLE001
        idx = data.rfind(b"%%EOF")
        if idx < 0 or data[idx + 5:].strip(b"\r\n\t \x00\x0c"):
            raise
        m = re.match(rb"\r?\n?", data[idx + 5:])  # matches always (possibly empty)
        return PdfFileReader(io.BytesIO(data[:idx + 5 + (m.end() if m else 0)]), strict=False)


class _Analysis(_ByteRangeChecks, _TrustChecks, _LevelRules, _ChangeRules, _FormAndAnnotationRules, _Verdict):
    def __init__(self, job: _Job) -> None:
        self.job = job
        self.data = job.data
        self._prefixes = PrefixHashes(job.data)
        self.report = ValidationReport(verdict="unreadable")
        self.now = job.now or datetime.now(UTC)

    # -- driver ----------------------------------------------------------------------------
    def run(self) -> ValidationReport:
        try:
            return self._run()
        finally:
            self._hash_revisions()

    def _hash_revisions(self) -> None:
        """The file's SHA-256 and each signed revision's, in a single pass over the bytes."""
        ends: dict[int, list[SignatureReport]] = {}
        for it in getattr(self, "items", ()):
            try:
                br = it["emb"].byte_range if it["emb"] is not None else None
                end = int(br[2]) + int(br[3]) if br is not None else None
            except Exception:  # noqa: BLE001
                end = None
            if end is not None and 0 < end <= len(self.data):
                ends.setdefault(end, []).append(it["report"])
        data = self.data
        eofs = self._revision_ends()
        cuts = sorted({*ends, *(e for e in eofs if e < len(data))})
        # the prefixes resume from the states pyHanko's SHA-256 byte-range digests left behind
        prefixes = self._prefixes
        revisions: list[str] = []
        for end in cuts:
            digest = prefixes.hexdigest(end)
            revisions.append(digest)
            for s in ends.get(end, ()):
                s.signed_sha256 = digest
        self.report.sha256 = prefixes.hexdigest(len(data))
        self.report.revision_sha256s = revisions
        prefixes.release()

    def _revision_ends(self) -> list[int]:
        """Every earlier revision's end (after "%%EOF", and after its line end), so that a file
        extended after it was issued is still recognised; the last ones only, found from the
        cross-reference sections the reader parsed (no scan of the whole file)."""
        import re

        data = self.data
        eofs: list[int] = []
        reader: Any = getattr(self, "reader", None)  # unset when the file was unreadable
        total = getattr(self, "total", 0)
        for rev in range(max(total - 1 - _MAX_HASHED_REVISIONS, 0), max(total - 1, 0)):
            try:
                start = int(reader.xrefs.get_xref_container_info(rev).end_location)
            except Exception:  # noqa: BLE001
                continue
            idx = data.find(b"%%EOF", start, start + 1024)
            if idx < 0:
                continue
            end = idx + 5
            eofs.append(end)
            m = re.match(rb"\r?\n", data[end:end + 2])
            if m:
                eofs.append(end + m.end())
        return eofs

    def _run(self) -> ValidationReport:
        rep = self.report
        head = self.data[:1024]
        if b"%PDF-" not in head:
            rep.problems.append("Tệp không phải là tài liệu PDF.")
            return rep
        from pyhanko.sign.validation import pdf_embedded  # noqa: F401 - loggers exist now

        _quiet_library_loggers()
        try:
            reader = _open_reader(self.data)
            if reader.encrypted:
                try:
                    result = reader.decrypt(b"")
                    if getattr(getattr(result, "status", None), "name", "FAILED") == "FAILED":
                        raise PermissionError("password required")
                except Exception:  # noqa: BLE001
                    rep.problems.append("Tài liệu được mã hóa bằng mật khẩu, không kiểm tra được.")
                    return rep
            root = reader.root
            total = reader.total_revisions
            _ = _pget(root, "/Pages")
        except Exception:  # noqa: BLE001
            rep.problems.append("Tệp PDF bị hỏng, không đọc được.")
            return rep
        self.reader = reader
        self.total = total
        rep.revisions = total
        if total > _MAX_REVISIONS:
            rep.problems.append(f"Tệp có quá nhiều phiên bản ({total}), không phân tích được.")
            return rep

        try:
            sig_fields = self._signature_fields()
        except Exception:  # noqa: BLE001
            rep.problems.append("Không đọc được danh sách chữ ký trong tài liệu.")
            return rep
        if len(sig_fields) > _MAX_SIGNATURES:
            rep.problems.append(f"Tệp có quá nhiều chữ ký ({len(sig_fields)}), không phân tích "
                                "được.")
            return rep
        earlier_names = self._signature_names_in_history()
        current_names = {name for name, _v, _f in sig_fields}
        removed = sorted(earlier_names - current_names)

        if not sig_fields and not removed:
            rep.verdict = "no_signature"
            rep.summary = SUMMARIES["no_signature"]
            return rep

        # hash the revisions' prefixes in file order first: the signatures' byte-range digests
        # then resume from them instead of hashing the file again
        self._prefixes.warm(self._revision_ends())
        asyncio.run(self._validate_all(sig_fields))
        self._decide(removed)
        return rep

    def _signature_fields(self) -> list[tuple[str, Any, Any]]:
        from pyhanko.sign.fields import enumerate_sig_fields

        return list(enumerate_sig_fields(self.reader, filled_status=True))

    def _signature_names_in_history(self) -> set[str]:
        from pyhanko.sign.fields import enumerate_sig_fields

        names: set[str] = set()
        for rev in range(max(self.total - 1, 0)):
            try:
                hist = self.reader.get_historical_resolver(rev)
                names.update(n for n, _v, _f in enumerate_sig_fields(hist, filled_status=True))
            except Exception:  # noqa: BLE001
                continue
        return names

    # -- per signature -----------------------------------------------------------------------
    async def _validate_all(self, sig_fields: list[tuple[str, Any, Any]]) -> None:
        self.items: list[dict[str, Any]] = []
        for name, _value, field_ref in sig_fields:
            item = await self._validate_one(name, field_ref)
            self.items.append(item)
        self.items.sort(key=lambda it: (it["revision"] if it["revision"] is not None else -1))
        self._certification_p = self._certification_level()
        for it in self.items:
            if it["checked_ok"] and it["report"].coverage == "entire_revision":
                self._judge_changes(it)
        self._assign_levels()
        for it in self.items:
            self._describe(it)
        self.report.signatures = [it["report"] for it in self.items]

    def _describe(self, it: dict[str, Any]) -> None:
        """Capacity, Vietnam times and trust anchor of one signature (for people)."""
        rep, st, emb = it["report"], it["status"], it["emb"]
        cert = reason = None
        try:
            cert = st.signing_cert if st is not None else (emb.signer_cert if emb else None)
        except Exception:  # noqa: BLE001
            cert = None
        try:
            if emb is not None and "/Reason" in emb.sig_object:
                reason = str(emb.sig_object["/Reason"])
        except Exception:  # noqa: BLE001
            reason = None
        people.classify(rep, cert, reason)
        if rep.trusted:
            rep.trust_anchor = people.anchor_label(it.get("trust_status") or st)

    def _embedded(self, fdict: Any, name: str) -> Any:
        """pyHanko's view of one signature, its SHA-256 byte-range digest taken from the shared
        prefix hashes (the same bytes the reader reads) instead of a second pass over the file."""
        from pyhanko.sign.validation import EmbeddedPdfSignature

        emb = EmbeddedPdfSignature(self.reader, fdict, name)
        try:
            stream = self.reader.stream
            pos = stream.tell()
            size = stream.seek(0, io.SEEK_END)
            stream.seek(pos)
            if emb.external_md_algorithm == "sha256" and size == len(self.data):
                digest = self._prefixes.byte_range_digest(emb.byte_range)
                if digest is not None:
                    emb.external_digests["sha256"] = digest
        except Exception:  # noqa: BLE001 - pyHanko then computes the digest itself
            logger.debug("no shared byte-range digest", exc_info=True)
        return emb

    async def _validate_one(self, name: str, field_ref: Any) -> dict[str, Any]:
        from pyhanko.pdf_utils import generic

        rep = SignatureReport(field=name)
        item: dict[str, Any] = {"report": rep, "revision": None, "emb": None, "status": None,
                                "checked_ok": False, "vc": None, "fatal": False}
        try:
            fdict = _deref(field_ref)
            raw_v = fdict.raw_get("/V")
            sig_obj = _deref(raw_v)
        except Exception:  # noqa: BLE001
            rep.problems.append("Không đọc được từ điển chữ ký.")
            item["fatal"] = True
            return item
        if not isinstance(sig_obj, generic.DictionaryObject):
            rep.problems.append("Giá trị của trường chữ ký không phải là từ điển chữ ký.")
            item["fatal"] = True
            return item
        sig_type = str(_pget(sig_obj, "/Type", "/Sig"))
        subfilter = _pget(sig_obj, "/SubFilter")
        rep.subfilter = str(subfilter)[1:] if subfilter is not None else None
        if sig_type == "/DocTimeStamp":
            rep.kind = "document_timestamp"

        # 1. our own byte-range checks
        br_problems = self._check_byte_range(raw_v, sig_obj)
        if br_problems:
            rep.problems.extend(br_problems)
            item["fatal"] = True
        if isinstance(raw_v, generic.IndirectObject):
            try:
                item["revision"] = self.reader.xrefs.get_last_change(raw_v.reference)
                rep.revision = item["revision"]
            except Exception:  # noqa: BLE001
                pass

        supported = {"/adbe.pkcs7.detached", "/ETSI.CAdES.detached", "/PBAD.PAdES",
                     "/ETSI.RFC3161", "/adbe.pkcs7.sha1"}
        if subfilter not in supported:
            rep.problems.append(
                f"Định dạng chữ ký {rep.subfilter or '(không khai báo)'} đã lỗi thời hoặc không "
                "được hỗ trợ; không thể xác minh chữ ký này.")
            item["fatal"] = True
            self._fill_signer_from_cms(rep, sig_obj)
            return item
        if sig_type not in ("/Sig", "/DocTimeStamp"):
            rep.problems.append("Loại từ điển chữ ký không hợp lệ.")
            item["fatal"] = True
            return item

        # 2. pyHanko
        from pyhanko.sign.validation.pdf_embedded import (
            async_validate_pdf_signature,
            async_validate_pdf_timestamp,
        )

        weak: list[str] = []
        n_signers = legacy.signer_info_count(sig_obj)
        if n_signers > 1:
            legacy.allow_several_signer_infos()
            legacy._first_signer.set(True)
            weak.append(legacy.SEVERAL_SIGNERS.format(n=n_signers))
        try:
            emb = self._embedded(fdict, name)
            _ = emb.signer_cert
        except Exception:  # noqa: BLE001
            rep.problems.append("Không phân tích được dữ liệu chữ ký (CMS) — chữ ký bị hỏng "
                                "hoặc giả mạo.")
            item["fatal"] = True
            return item
        item["emb"] = emb
        item["revision"] = emb.signed_revision
        rep.revision = emb.signed_revision
        if item["fatal"]:
            self._fill_signer(rep, emb.signer_cert)
            return item
        vc = self._validation_context(emb)
        item["vc"] = vc
        async def lib_validate(skip_diff: bool) -> Any:
            if rep.kind == "document_timestamp":
                return await async_validate_pdf_timestamp(emb, validation_context=vc,
                                                          skip_diff=skip_diff)
            return await async_validate_pdf_signature(
                emb, signer_validation_context=vc, ts_validation_context=vc,
                skip_diff=skip_diff, key_usage_settings=_signer_key_usage())

        if subfilter == "/adbe.pkcs7.sha1":
            weak.append(legacy.LEGACY_SHA1)

            async def lib_validate(skip_diff: bool) -> Any:  # noqa: F811
                return await legacy.validate_sha1(emb, self.data, vc, _signer_key_usage())

        try:
            try:
                status = await lib_validate(False)
            except Exception:  # noqa: BLE001 - the library's diff analysis choked on a revision
                logger.debug("pyHanko diff analysis failed", exc_info=True)
                item["lib_diff_failed"] = True
                emb = self._embedded(fdict, name)
                item["emb"] = emb
                status = await lib_validate(True)
        except Exception:  # noqa: BLE001
            logger.debug("pyHanko validation failed", exc_info=True)
            rep.problems.append("Không xác minh được chữ ký: dữ liệu chữ ký không hợp lệ.")
            item["fatal"] = True
            try:
                self._fill_signer(rep, emb.signer_cert)
            except Exception:  # noqa: BLE001
                pass
            return item
        if rep.kind == "signature" and subfilter != "/adbe.pkcs7.sha1" and status.intact \
                and not status.valid:
            # a weak algorithm (SHA-1): judge integrity without the ban, report it as trust
            try:
                emb_w = self._embedded(fdict, name)
                st_w = await async_validate_pdf_signature(
                    emb_w, signer_validation_context=vc, ts_validation_context=vc,
                    skip_diff=False, key_usage_settings=_signer_key_usage(),
                    algorithm_policy=legacy.weak_policy())
                if st_w.intact and st_w.valid:
                    status, emb = st_w, emb_w
                    item["emb"] = emb
                    weak.append(legacy.WEAK_ALGORITHM)
            except Exception:  # noqa: BLE001
                logger.debug("weak-algorithm revalidation failed", exc_info=True)
        item["status"] = status
        trust_status, trust_vc = status, vc
        poe = _proven_signing_time(status)
        if poe is not None and rep.kind == "signature" and (not status.trusted or status.revoked):
            # a trusted signature timestamp proves the signature existed at ``poe``: judge the
            # certificate (expiry, revocation) at that time, as PAdES long-term validation does
            try:
                emb2 = self._embedded(fdict, name)
                vc2 = self._validation_context(emb2, moment=poe)
                st2 = await async_validate_pdf_signature(
                    emb2, signer_validation_context=vc2, ts_validation_context=vc,
                    skip_diff=True, key_usage_settings=_signer_key_usage())
                if st2.intact and st2.valid:
                    trust_status, trust_vc = st2, vc2
                    if status.revoked and not st2.revoked:
                        rd = status.revocation_details.revocation_date
                        rep.problems.append(
                            "Chứng thư số của người ký đã bị thu hồi sau thời điểm ký "
                            f"({rd.isoformat() if rd else 'không rõ ngày'}); chữ ký vẫn có giá "
                            "trị vì dấu thời gian chứng minh đã ký trước đó.")
            except Exception:  # noqa: BLE001
                logger.debug("point-in-time revalidation failed", exc_info=True)
        self._fill_from_status(rep, status, emb, vc, trust_status, trust_vc)
        item["trust_status"] = trust_status
        if weak and rep.intact and rep.valid:
            rep.trusted = False
            rep.problems.extend(weak)
        cov = status.coverage
        from pyhanko.sign.validation.status import SignatureCoverageLevel as C

        if cov == C.ENTIRE_FILE:
            rep.coverage = "entire_file"
        elif cov == C.ENTIRE_REVISION:
            rep.coverage = "entire_revision"
        else:
            rep.coverage = "partial"
        if cov == C.UNCLEAR or cov is None:
            rep.problems.append("Vùng dữ liệu được ký (ByteRange) bất thường.")
            item["fatal"] = True
        elif cov == C.CONTIGUOUS_BLOCK_FROM_START:
            rep.problems.append("Chữ ký không bao trùm trọn vẹn phiên bản tài liệu được ký; phần "
                                "còn lại của tệp không phải là bản cập nhật hợp lệ.")
            rep.changes_after = "disallowed"
        if not (rep.intact and rep.valid):
            item["fatal"] = True
        item["checked_ok"] = not item["fatal"]
        return item
