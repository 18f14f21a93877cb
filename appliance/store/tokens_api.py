"""The Store's methods for the JSON API: API token digests and the paged holder list."""

from __future__ import annotations

from appliance.store.db import Database
from appliance.store.tables import tokens
from appliance.store.tables.users import AdminUserRow


class TokensApi:
    """Mixed into Store: each method runs in one transaction, raising only StoreError."""

    _db: Database

    def set_api_token_digest(self, username: str, digest: str | None, *, actor: str) -> None:
        """Store an account's API token as its SHA-256 hex digest, or revoke it with None."""
        with self._db.write("saving an API token") as s:
            tokens.set_token_digest(s, self._db.now_us(), username, digest, actor=actor)

    def api_token_owner(self, user_id: int) -> tuple[AdminUserRow, str | None] | None:
        """The account with this id and its API token digest (None if none), or None."""
        with self._db.read("reading an API token") as s:
            return tokens.token_owner(s, user_id)
