"""People (whose data it is, each with an IANA zone) and the accounts that manage them."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.clock import Clock
from tracker.errors import Conflict, NotFound, UserError
from tracker.model import MAX_ID
from tracker.storage.models import ApiToken, Person, User, WebSession
from tracker.timefmt import TimeFormatError, zone


@dataclass(frozen=True, slots=True)
class PersonInfo:
    id: int
    name: str
    tz: str
    user_id: int | None
    user_name: str | None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "timezone": self.tz, "user": self.user_name}


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    name: str
    has_password: bool


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    user_name: str
    name: str
    created_ms: int
    last_used_ms: int | None
    expires_ms: int | None


class HashersBusy(UserError):
    """Every password-hashing slot is taken (a flood of sign-ins): try again in a moment."""


# Password hashing (argon2id) is deliberately slow and CPU-bound; this many run at once, so a flood of
# sign-ins cannot take every core and web thread from people already signed in.
HASH_SLOTS = max(1, (os.cpu_count() or 2) // 2)
HASH_WAIT_S = 2.0


def _check_name(name: str, what: str) -> str:
    name = name.strip()
    if not name or len(name) > 80:
        raise UserError(f"{what} name must be 1-80 characters")
    return name


class People:
    """Create, find and list people; an account may manage several (a therapist's clients)."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock) -> None:
        self._db = sessionmaker
        self._clock = clock

    @staticmethod
    def _info(person: Person, user: User | None) -> PersonInfo:
        return PersonInfo(person.id, person.name, person.tz, person.user_id, user.name if user else None)

    def add(self, name: str, tz: str, user_name: str | None = None) -> PersonInfo:
        """A new person, managed by account `user_name` (None: no account yet, e.g. added on the command line).

        The name must be new within that account only (or among the people with no account): a clash is
        reported without a word about other accounts, which may use the same name freely.
        """
        name = _check_name(name, "person")
        try:
            zone(tz)
        except TimeFormatError as exc:
            raise UserError(str(exc)) from None
        with self._db.begin() as db:
            user = None
            if user_name is not None:
                user = db.scalar(sa.select(User).where(User.name == user_name))
                if user is None:
                    raise NotFound(f"no user named {user_name!r}")
            if _has_name(db, name, user.id if user else None):
                raise Conflict(_clash_message(name, user))
            person = Person(name=name, tz=tz, user_id=user.id if user else None, created_ms=self._clock.now_ms())
            db.add(person)
            try:
                db.flush()
            except sa.exc.IntegrityError:  # a concurrent add of the same name in the same account won the race
                raise Conflict(_clash_message(name, user)) from None
            return self._info(person, user)

    def list(self, user_id: int | None = None) -> list[PersonInfo]:
        """All people, or those managed by `user_id`."""
        with self._db() as db:
            stmt = sa.select(Person, User).outerjoin(User, Person.user_id == User.id).order_by(Person.name, Person.id)
            if user_id is not None:
                stmt = stmt.where(Person.user_id == user_id)
            return [self._info(p, u) for p, u in db.execute(stmt)]

    def get(self, ref: str | int, user_id: int | None = None) -> PersonInfo:
        """Find a person by id or name.

        With `user_id` (the web, the API, anything acting for an account): only among that account's people,
        by name or id; anything else is NotFound, with the same message whether or not it exists elsewhere.

        Without (the administrator: the CLI and config.toml): over every account, by NAME, ACCOUNT/NAME
        (the account's user name) or id. A bare NAME that several accounts use is AmbiguousPerson, whose
        message lists the ACCOUNT/NAME and id of each, rather than a silent pick of one.
        """
        with self._db() as db:
            stmt = sa.select(Person, User).outerjoin(User, Person.user_id == User.id).order_by(Person.id)
            if user_id is not None:
                stmt = stmt.where(Person.user_id == user_id)
            # An int is an id; text is a name first (a person may be called "3"), then an id.
            rows = [] if isinstance(ref, int) else db.execute(stmt.where(Person.name == ref)).all()
            if not rows and isinstance(ref, str) and user_id is None and "/" in ref:
                # ACCOUNT/NAME, compared whole so that a "/" inside either part needs no escaping
                rows = db.execute(stmt.where(User.name + "/" + Person.name == ref)).all()
            if not rows and (isinstance(ref, int) or (ref.isascii() and ref.isdigit())) and 0 < int(ref) <= MAX_ID:
                rows = db.execute(stmt.where(Person.id == int(ref))).all()
            if not rows:
                raise NotFound(f"no person {ref!r}")
            if len(rows) > 1:
                raise AmbiguousPerson(_ambiguity_message(str(ref), [self._info(p, u) for p, u in rows]))
            return self._info(*rows[0])

    def link(self, person_ref: str | int, user_name: str) -> PersonInfo:
        """Give a person to account `user_name` (refused if that account has a person of the same name)."""
        person_id = self.get(person_ref).id
        with self._db.begin() as db:
            user = db.scalar(sa.select(User).where(User.name == user_name))
            if user is None:
                raise NotFound(f"no user named {user_name!r}")
            person = db.get(Person, person_id)
            assert person is not None
            if person.user_id == user.id:
                return self._info(person, user)
            if _has_name(db, person.name, user.id):
                raise Conflict(_clash_message(person.name, user))
            person.user_id = user.id
            try:
                db.flush()
            except sa.exc.IntegrityError:
                raise Conflict(_clash_message(person.name, user)) from None
            return self._info(person, user)


class AmbiguousPerson(UserError):
    """A bare name several accounts use (only the administrator's look-up can meet one)."""


def _clash_message(name: str, user: User | None) -> str:
    """Names only the account asked about (the signed-in one on the web), never another."""
    if user is None:
        return f"a person named {name!r} with no account already exists"
    return f"the account {user.name!r} already has a person named {name!r}"


def _has_name(db: so.Session, name: str, user_id: int | None) -> bool:
    """Whether account `user_id` (None: no account) has a person called `name`.

    Only that account's rows are read, so the answer cannot depend on, or reveal, another account's names.
    """
    owner = Person.user_id.is_(None) if user_id is None else Person.user_id == user_id
    return db.scalar(sa.select(Person.id).where(Person.name == name, owner).limit(1)) is not None


def _ambiguity_message(ref: str, found: list[PersonInfo]) -> str:
    def label(p: PersonInfo) -> str:
        return f"{p.user_name}/{p.name} (id {p.id})" if p.user_name is not None else f"{p.name} with no account (id {p.id})"

    return (f"{len(found)} people match {ref!r}: {', '.join(label(p) for p in found)}; "
            f"name one as ACCOUNT/NAME or by its id")  # fmt: skip


class Users:
    """Accounts: argon2id password hashes (argon2-cffi defaults) and API tokens stored as SHA-256."""

    def __init__(
        self, sessionmaker: so.sessionmaker[so.Session], clock: Clock, hasher: PasswordHasher | None = None
    ) -> None:
        self._db = sessionmaker
        self._clock = clock
        self._hasher = hasher or PasswordHasher()  # tests pass cheaper parameters
        self._slots = threading.BoundedSemaphore(HASH_SLOTS)

    def count(self) -> int:
        with self._db() as db:
            return db.scalar(sa.select(sa.func.count()).select_from(User)) or 0

    def add(self, name: str, password: str | None = None) -> UserInfo:
        name = _check_name(name, "user")
        if password is not None and len(password) < 8:
            raise UserError("password must be at least 8 characters")
        with self._db.begin() as db:
            if db.scalar(sa.select(User.id).where(User.name == name)) is not None:
                raise Conflict(f"a user named {name!r} already exists")
            user = User(
                name=name,
                password_hash=self._hasher.hash(password) if password else None,
                created_ms=self._clock.now_ms(),
            )
            db.add(user)
            db.flush()
            return UserInfo(user.id, user.name, password is not None)

    def get(self, user_id: int) -> UserInfo | None:
        with self._db() as db:
            user = db.get(User, user_id)
            return None if user is None else UserInfo(user.id, user.name, user.password_hash is not None)

    def by_name(self, name: str) -> UserInfo:
        with self._db() as db:
            user = db.scalar(sa.select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            return UserInfo(user.id, user.name, user.password_hash is not None)

    def verify(self, name: str, password: str) -> UserInfo | None:
        """The account if the password matches and it is enabled, else None (same answer for unknown names).

        Raises HashersBusy when no hashing slot frees up in time (see HASH_SLOTS).
        """
        with self._db() as db:
            user = db.scalar(sa.select(User).where(User.name == name))
            stored = None if user is None else user.password_hash
            found = None if user is None else UserInfo(user.id, user.name, True)
            disabled = user is not None and user.disabled_ms is not None
        if not self._slots.acquire(timeout=HASH_WAIT_S):
            raise HashersBusy("the server is busy checking other sign-ins; try again in a few seconds")
        try:  # the database session is closed while hashing: a slow hash holds no connection
            if stored is None:
                self._hasher.hash(password)  # spend the same time, so timing does not reveal names
                return None
            try:
                self._hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return None
        finally:
            self._slots.release()
        return None if disabled else found

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise UserError("password must be at least 8 characters")
        with self._db.begin() as db:
            user = db.scalar(sa.select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            user.password_hash = self._hasher.hash(password)
            # a new password ends every signed-in browser of the account (a thief's copy of a cookie too)
            db.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))

    def add_first(self, name: str, password: str) -> UserInfo | None:
        """Create the first account, or None when any account exists already (first-run setup).

        Atomic even when several requests race: one INSERT ... SELECT ... WHERE NOT EXISTS, which SQLite runs
        under its write lock, after PostgreSQL has locked the table against other writers.
        """
        name = _check_name(name, "user")
        if len(password) < 8:
            raise UserError("password must be at least 8 characters")
        with self._db() as db:
            if db.scalar(sa.select(User.id).limit(1)) is not None:
                return None
        password_hash = self._hasher.hash(password)
        with self._db.begin() as db:
            if db.get_bind().dialect.name == "postgresql":
                db.execute(sa.text("LOCK TABLE user_account IN SHARE ROW EXCLUSIVE MODE"))
            values = sa.select(
                sa.literal(name), sa.literal(password_hash), sa.literal(self._clock.now_ms(), sa.BigInteger)
            ).where(~sa.exists(sa.select(User.id)))
            db.execute(sa.insert(User).from_select(["name", "password_hash", "created_ms"], values))
            # rowcount is not reliable for INSERT ... SELECT on every driver: ask which row is the only one
            first = db.execute(sa.select(User.id, User.password_hash).order_by(User.id).limit(1)).first()
        if first is None or first.password_hash != password_hash:  # the hash is salted: unique to this call
            return None
        return UserInfo(first.id, name, True)

    def set_disabled(self, name: str, disabled: bool) -> UserInfo:
        """Disable (cannot sign in; its sessions end and its tokens stop working) or enable an account."""
        with self._db.begin() as db:
            user = db.scalar(sa.select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            user.disabled_ms = self._clock.now_ms() if disabled else None
            if disabled:
                db.execute(sa.delete(WebSession).where(WebSession.user_id == user.id))
            return UserInfo(user.id, user.name, user.password_hash is not None)

    def create_token(self, user_name: str, token_name: str, expires_ms: int | None = None) -> str:
        """A new API token for the account; the secret is shown once and only its hash is kept."""
        secret = "trk_" + secrets.token_urlsafe(32)
        if expires_ms is not None and expires_ms <= self._clock.now_ms():
            raise UserError("a token's expiry must be in the future")
        with self._db.begin() as db:
            user = db.scalar(sa.select(User).where(User.name == user_name))
            if user is None:
                raise NotFound(f"no user named {user_name!r}")
            db.add(
                ApiToken(
                    user_id=user.id,
                    name=_check_name(token_name, "token"),
                    token_sha256=hashlib.sha256(secret.encode()).hexdigest(),
                    created_ms=self._clock.now_ms(),
                    expires_ms=expires_ms,
                )
            )
        return secret

    def tokens(self, user_id: int | None = None) -> list[TokenInfo]:
        """The tokens of one account (or all), oldest first; secrets are never shown again."""
        with self._db() as db:
            stmt = sa.select(ApiToken, User.name).join(User, ApiToken.user_id == User.id).order_by(ApiToken.id)
            if user_id is not None:
                stmt = stmt.where(ApiToken.user_id == user_id)
            return [TokenInfo(t.id, u, t.name, t.created_ms, t.last_used_ms, t.expires_ms) for t, u in db.execute(stmt)]

    def revoke_token(self, token_id: int, user_id: int | None = None) -> TokenInfo:
        """Delete a token (it stops working at once); with `user_id`, only that account's (else NotFound)."""
        with self._db.begin() as db:
            row = db.execute(
                sa.select(ApiToken, User.name).join(User, ApiToken.user_id == User.id).where(ApiToken.id == token_id)
            ).first()
            if row is None or (user_id is not None and row[0].user_id != user_id):
                raise NotFound(f"no token {token_id}")
            t, user_name = row
            info = TokenInfo(t.id, user_name, t.name, t.created_ms, t.last_used_ms, t.expires_ms)
            db.delete(t)
            return info

    def by_token(self, secret: str) -> UserInfo | None:
        """The token's account, unless the token is unknown, expired, or the account disabled; notes its use."""
        digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
        now_ms = self._clock.now_ms()
        with self._db.begin() as db:
            row = db.execute(
                sa.select(ApiToken, User).join(User, ApiToken.user_id == User.id).where(ApiToken.token_sha256 == digest)
            ).first()
            if row is None:
                return None
            token, user = row
            if user.disabled_ms is not None or (token.expires_ms is not None and token.expires_ms <= now_ms):
                return None
            token.last_used_ms = now_ms
            return UserInfo(user.id, user.name, user.password_hash is not None)
