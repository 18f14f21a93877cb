"""The Store's methods for admin page accounts and their sessions."""

from __future__ import annotations

from appliance.store.db import Database
from appliance.store.tables import sessions, users
from appliance.store.tables.users import AdminUserRow


class UsersApi:
    """Mixed into Store: each method runs in one transaction, raising only StoreError."""

    _db: Database

    def add_admin_user(
        self, username: str, password_hash: str, role: str, *, actor: str, first: bool = False
    ) -> int:
        """Create an admin page account from a hash; ``first``: only while none exist."""
        with self._db.write("adding an admin account") as s:
            return users.add_user(
                s, self._db.now_us(), username, password_hash, role, actor=actor, first=first
            )

    def set_admin_user_disabled(self, username: str, disabled: bool, *, actor: str) -> None:
        """Disable (ending its sessions) or re-enable an account (never the last enabled admin)."""
        with self._db.write("disabling an admin account") as s:
            users.set_disabled(s, self._db.now_us(), username, disabled, actor=actor)

    def set_admin_user_role(self, username: str, role: str, *, actor: str) -> bool:
        """Change an account's role, ending its sessions; False if it already had that role."""
        with self._db.write("changing an account's role") as s:
            return users.set_role(s, self._db.now_us(), username, role, actor=actor)

    def reset_admin_password(self, username: str, password_hash: str, *, actor: str) -> None:
        """An admin's reset: a temporary password to replace at sign-in; sessions end."""
        with self._db.write("resetting a password") as s:
            user_id = users.user_id_of(s, username)
            users.set_password(
                s, self._db.now_us(), user_id, password_hash, temporary=True, actor=actor
            )

    def change_admin_password(self, user_id: int, password_hash: str, *, actor: str) -> None:
        """The account's own new password; every session of it ends."""
        with self._db.write("changing a password") as s:
            users.set_password(
                s, self._db.now_us(), user_id, password_hash, temporary=False, actor=actor
            )

    def open_admin_session(
        self,
        user_id: int,
        digest: str,
        *,
        now: float,
        expires_at: float,
        client: str,
        record: bool = True,
    ) -> None:
        """Record a session (the SHA-256 of its id) live until ``expires_at`` (Unix seconds)."""
        with self._db.write("signing in") as s:
            sessions.open_session(
                s,
                round(now * 1_000_000),
                user_id,
                digest,
                expires_us=round(expires_at * 1_000_000),
                client=client,
                record=record,
            )

    def admin_session_user(self, digest: str, *, now: float) -> AdminUserRow | None:
        """The enabled account whose session with this id digest is live at ``now``, or None."""
        with self._db.read("reading a session") as s:
            return sessions.session_user(s, round(now * 1_000_000), digest)

    def sign_out_admin_user(self, user_id: int, *, client: str) -> int:
        """End every session of an account; how many there were."""
        with self._db.write("signing out") as s:
            return sessions.sign_out(s, self._db.now_us(), user_id, client=client)
