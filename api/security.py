"""Bearer tokens (JWT, HS256) bound to the user's token_version so role/password changes revoke them."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from ioffice.accounts.models import User
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import AuthenticationFailed

ALGORITHM = "HS256"
AUDIENCE = "ioffice-api"


def issue_token(user: User, *, secret: bytes, ttl_minutes: int) -> tuple[str, int]:
    now = utcnow()
    exp = now + timedelta(minutes=ttl_minutes)
    claims = {"sub": user.id, "org": user.org_id, "ver": user.token_version, "iat": now, "exp": exp, "aud": AUDIENCE}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), ttl_minutes * 60


def decode_token(token: str, *, secret: bytes) -> dict[str, Any]:
    """Claims of a valid token. Raises AuthenticationFailed for a bad or expired one."""
    try:
        return jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                          options={"require": ["sub", "exp", "org", "ver"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed("Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.") from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("Mã truy cập không hợp lệ.") from exc
