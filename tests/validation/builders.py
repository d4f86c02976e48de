"""Builders for test PDFs: reportlab documents, pyHanko signatures, hand-made incremental updates."""
from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .pki import Identity, TestPKI


def signer_for(pki: TestPKI, who: Identity) -> signers.SimpleSigner:
    return signers.SimpleSigner(
        signing_cert=who.asn1_cert, signing_key=who.asn1_key,
        cert_registry=SimpleCertificateStore.from_certs(
            [pki.intermediate.asn1_cert, pki.root.asn1_cert]))


def timestamper(pki: TestPKI) -> DummyTimeStamper:
    return DummyTimeStamper(tsa_cert=pki.tsa.asn1_cert, tsa_key=pki.tsa.asn1_key,
                            certs_to_embed=SimpleCertificateStore.from_certs(
                                [pki.intermediate.asn1_cert, pki.root.asn1_cert]))


def sign(pdf: bytes, pki: TestPKI, *, who: Identity | None = None, field: str = "ChuKy1",
         tsa: bool = False, certify: bool = False, docmdp: MDPPerm | None = None,
         visible: bool = False, lt: bool = False, lta: bool = False, lock: bool = False,
         subfilter: fields.SigSeedSubFilter = fields.SigSeedSubFilter.PADES,
         bytes_reserved: int | None = None) -> bytes:
    """Sign ``pdf`` incrementally with pyHanko (PAdES by default)."""
    who = who or pki.signer
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    vc = None
    if lt or lta:
        vc = ValidationContext(trust_roots=[pki.root.asn1_cert], crls=pki.asn1_crls,
                               allow_fetching=False, revocation_mode="soft-fail")
    meta = signers.PdfSignatureMetadata(
        field_name=field, certify=certify,
        docmdp_permissions=docmdp or MDPPerm.FILL_FORMS, subfilter=subfilter,
        embed_validation_info=lt or lta, validation_context=vc, use_pades_lta=lta)
    spec = fields.SigFieldSpec(
        field, box=(300, 60, 500, 120) if visible else None,
        field_mdp_spec=fields.FieldMDPSpec(fields.FieldMDPAction.INCLUDE, [field]) if lock
        else None)
    out = signers.sign_pdf(w, meta, signer=signer_for(pki, who),
                           timestamper=timestamper(pki) if (tsa or lt or lta) else None,
                           new_field_spec=spec, bytes_reserved=bytes_reserved)
    return out.getvalue()


def incremental(pdf: bytes, edit) -> bytes:
    """Apply ``edit(writer)`` as a plain incremental update (what an attacker's tool does)."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    edit(w)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def stream(w, data: bytes, extra: dict | None = None):
    s = generic.StreamObject(dict(extra or {}), stream_data=data)
    return w.add_object(s)


def first_page(w):
    return w.root["/Pages"]["/Kids"][0]


def byte_range(pdf: bytes) -> list[int]:
    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert m, "no /ByteRange"
    return [int(x) for x in m.groups()]


__all__ = ["sign", "incremental", "stream", "first_page", "byte_range",
           "pdf_name", "generic", "timestamper", "signer_for", "MDPPerm"]
