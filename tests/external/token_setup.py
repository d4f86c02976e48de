"""Set up the SoftHSM2 test token from a separate process (keeps PKCS#11 state and the
SOFTHSM2_CONF environment out of the pytest process, which other suites may share).

    python -m tests.external.token_setup generate LABEL PIN      -> JSON {key label: SPKI PEM}
    python -m tests.external.token_setup store LABEL PIN FILE.json  (FILE: [[label, id_hex, pem]])
"""
from __future__ import annotations

import json
import sys

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, CertificateType, KeyType, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
RSA_KEYS = (("signer", b"\x01"), ("other", b"\x02"))
EC_KEY = ("ec", b"\x03")


def _spki(public_key) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def generate(session) -> dict:
    out = {}
    for label, key_id in RSA_KEYS:
        pub, _ = session.generate_keypair(KeyType.RSA, 2048, id=key_id, label=label, store=True)
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(pub[Attribute.MODULUS], "big"),
        )
        out[label] = _spki(numbers.public_key())
    params = session.create_domain_parameters(
        KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
    )
    pub, _ = params.generate_keypair(id=EC_KEY[1], label=EC_KEY[0], store=True)
    point = bytes(pub[Attribute.EC_POINT])
    if point[0] == 0x04 and len(point) == 67:  # DER OCTET STRING around the point
        point = point[2:]
    out[EC_KEY[0]] = _spki(ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point))
    return out


def store(session, entries: list) -> None:
    for label, id_hex, pem in entries:
        cert = x509.load_pem_x509_certificate(pem.encode())
        session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.LABEL: label,
            Attribute.ID: bytes.fromhex(id_hex),
            Attribute.SUBJECT: cert.subject.public_bytes(),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
        })


def main(argv: list[str]) -> None:
    command, token_label, pin = argv[:3]
    token = pkcs11.lib(MODULE).get_token(token_label=token_label)
    with token.open(user_pin=pin, rw=True) as session:
        if command == "generate":
            print(json.dumps(generate(session)))
        elif command == "store":
            with open(argv[3], encoding="utf-8") as fh:
                store(session, json.load(fh))
        else:
            raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
