"""API tokens: create (the token is returned once; only its SHA-256 is kept), list,
revoke, and look one up by the token a request presents."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

from sqlalchemy import select, update

from montesim.errors import InputError
from montesim.jobs.model import Token
from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.tables import tokens

TOKEN_PREFIX = "mst_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
TOUCH_SECONDS = 60.0  # last_used_at is written at most this often per token


def token_hash(token: str) -> str:
    """What the store keeps of a token. Tokens are 256 random bits: a plain SHA-256
    suffices (there is nothing to guess that a slow hash would protect)."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokensStore(StoreBase):
    def create_token(self, name: str, *, admin: bool = False) -> tuple[Token, str]:
        """A new token for ``name``; ``(record, token)``. The token is not kept anywhere.

        InputError when the name is malformed or an unrevoked token already has it.
        """
        if not NAME.match(name):
            raise InputError(
                f"token name {name[:100]!r}: use 1 to 100 letters, digits and . _ @ -, "
                "starting with a letter or digit",
                code="invalid_token_name",
                location="name",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        t = now()
        record = Token(str(uuid.uuid4()), name, admin, t)
        with self._write() as conn:
            taken = conn.execute(
                select(tokens.c.id).where(tokens.c.name == name, tokens.c.revoked_at.is_(None))
            ).first()
            if taken is not None:
                raise InputError(
                    f"a token named {name!r} exists; revoke it first or choose another name",
                    code="token_name_taken",
                    location="name",
                )
            conn.execute(
                tokens.insert().values(
                    id=record.id,
                    name=name,
                    token_hash=token_hash(secret),
                    admin=admin,
                    created_at=t,
                )
            )
        return record, secret

    def list_tokens(self) -> list[Token]:
        with self._read() as conn:
            rows = conn.execute(select(tokens).order_by(tokens.c.created_at)).mappings()
            return [Token.from_row(r) for r in rows]

    def revoke_token(self, name_or_id: str) -> list[Token]:
        """Revoke the unrevoked token with this id, or those with this name; those revoked."""
        with self._write() as conn:
            rows = conn.execute(
                select(tokens).where(
                    (tokens.c.id == name_or_id) | (tokens.c.name == name_or_id),
                    tokens.c.revoked_at.is_(None),
                )
            ).mappings()
            found = [Token.from_row(r) for r in rows]
            if found:
                conn.execute(
                    update(tokens)
                    .where(tokens.c.id.in_([f.id for f in found]))
                    .values(revoked_at=now())
                )
        return found

    def authenticate(self, token: str) -> Token | None:
        """The unrevoked token whose hash this is (noting its use), or None."""
        with self._read() as conn:
            row = (
                conn.execute(
                    select(tokens).where(
                        tokens.c.token_hash == token_hash(token), tokens.c.revoked_at.is_(None)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            return None
        found = Token.from_row(row)
        self._touch(found)
        return found

    def active_token(self, token_id: str) -> Token | None:
        """The token with this id unless revoked (a stream ticket names its token)."""
        with self._read() as conn:
            row = (
                conn.execute(
                    select(tokens).where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
                )
                .mappings()
                .first()
            )
        return Token.from_row(row) if row else None

    def _touch(self, token: Token) -> None:
        t = now()
        if token.last_used_at is not None and t - token.last_used_at < TOUCH_SECONDS:
            return  # no write on every request
        with self._write() as conn:
            conn.execute(update(tokens).where(tokens.c.id == token.id).values(last_used_at=t))
