"""PAdES signing and validation on pyHanko.

Modules: :mod:`signing.engine` (fast signer: ``PreparedSigner``, ``sign_pdf``, ``issue_stamp``,
``http_timestamper``, ``make_validation_context``), :mod:`signing.errors`,
:mod:`signing.appearance` (Decree 30 looks), :mod:`signing.validation` (reports),
:mod:`signing.external` (interrupted/external signing). Import the submodule you need; this
package imports nothing heavy itself.
"""
