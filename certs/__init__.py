"""Keys and trust: key sources (:mod:`certs.keys`: PKCS#12, PKCS#11), trust roots
(:mod:`certs.trust`), pre-signing certificate checks (:mod:`certs.checks`), and the development
PKI (:mod:`certs.devpki`) with its TSA/OCSP/CRL services (:mod:`certs.devservices`)."""
