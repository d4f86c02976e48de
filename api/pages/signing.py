"""Signing with a USB token from the document page: the official whose signing method is the
token opens ``/sign-token/{id}`` (a page under the signing CSP, which lets it reach the signing
plugin on their own PC over loopback), picks the plugin and signs; the shared signing script
(``api/static/signing/sign-page.js``) prepares, lets the plugin sign the hash and completes.

The script talks to the JSON API, which takes bearer tokens only: the page hands it a token of the
signed-in official valid for 15 minutes in a ``data-token`` attribute (no inline script; the page
is ``no-store``)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ioffice import signing_methods

from ..deps import ContainerDep, SessionDep
from ..security import issue_token
from .common import render
from .documents import available_actions, load_document
from .session import PageUser

router = APIRouter(include_in_schema=False)
TOKEN_MINUTES = 15


@router.get("/sign-token/{document_id}")
def token_sign_page(request: Request, document_id: str, db: SessionDep, user: PageUser, container: ContainerDep):
    from ioffice import tasks
    from ioffice.kernel.errors import Conflict

    doc = load_document(db, user, document_id)
    my = [t for t in tasks.my_tasks(db, user=user) if t.document_id == doc.id]
    if "sign" not in available_actions(user, doc, my):
        raise Conflict("Văn bản này không ở trạng thái chờ bạn ký.")
    token, _ttl = issue_token(user, secret=container.settings.token_key, ttl_minutes=TOKEN_MINUTES)
    return render(request, "sign_token.html", {"doc": doc, "token": token,
                                               "method": signing_methods.effective_method(db, user)})
