"""People (whose data it is, each with an IANA zone) and the accounts that manage them."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.clock import Clock
from tracker.errors import Conflict, NotFound, UserError
from tracker.storage.models import ApiToken, Person, User
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
        name = _check_name(name, "person")
        try:
            zone(tz)
        except TimeFormatError as exc:
            raise UserError(str(exc)) from None
        with self._db.begin() as db:
            if db.scalar(sa.select(Person.id).where(Person.name == name)) is not None:
                raise Conflict(f"a person named {name!r} already exists")
            user = None
            if user_name is not None:
                user = db.scalar(sa.select(User).where(User.name == user_name))
                if user is None:
                    raise NotFound(f"no user named {user_name!r}")
            person = Person(name=name, tz=tz, user_id=user.id if user else None, created_ms=self._clock.now_ms())
            db.add(person)
            db.flush()
            return self._info(person, user)

    def list(self, user_id: int | None = None) -> list[PersonInfo]:
        """All people, or those managed by `user_id`."""
        with self._db() as db:
            stmt = sa.select(Person, User).outerjoin(User, Person.user_id == User.id).order_by(Person.name)
            if user_id is not None:
                stmt = stmt.where(Person.user_id == user_id)
            return [self._info(p, u) for p, u in db.execute(stmt)]

    def get(self, ref: str | int, user_id: int | None = None) -> PersonInfo:
        """Find by id or name; with `user_id`, only among that account's people (else NotFound)."""
        with self._db() as db:
            stmt = sa.select(Person, User).outerjoin(User, Person.user_id == User.id)
            if user_id is not None:
                stmt = stmt.where(Person.user_id == user_id)
            # An int is an id; text is a name first (a person may be called "3"), then an id.
            row = None if isinstance(ref, int) else db.execute(stmt.where(Person.name == ref)).first()
            if row is None and (isinstance(ref, int) or ref.isdigit()):
                row = db.execute(stmt.where(Person.id == int(ref))).first()
            if row is None:
                raise NotFound(f"no person {ref!r}")
            return self._info(*row)

    def link(self, person_ref: str | int, user_name: str) -> PersonInfo:
        with self._db.begin() as db:
            user = db.scalar(sa.select(User).where(User.name == user_name))
            if user is None:
                raise NotFound(f"no user named {user_name!r}")
            person = db.get(Person, self.get(person_ref).id)
            assert person is not None
            person.user_id = user.id
            return self._info(person, user)


class Users:
    """Accounts: argon2id password hashes (argon2-cffi defaults) and API tokens stored as SHA-256."""

    def __init__(
        self, sessionmaker: so.sessionmaker[so.Session], clock: Clock, hasher: PasswordHasher | None = None
    ) -> None:
        self._db = sessionmaker
        self._clock = clock
        self._hasher = hasher or PasswordHasher()  # tests pass cheaper parameters

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
        """The account if the password matches, else None (same answer for unknown names)."""
        with self._db() as db:
            user = db.scalar(sa.select(User).where(User.name == name))
            if user is None or user.password_hash is None:
                self._hasher.hash(password)  # spend the same time, so timing does not reveal names
                return None
            try:
                self._hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return UserInfo(user.id, user.name, True)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise UserError("password must be at least 8 characters")
        with self._db.begin() as db:
            user = db.scalar(sa.select(User).where(User.name == name))
            if user is None:
                raise NotFound(f"no user named {name!r}")
            user.password_hash = self._hasher.hash(password)

    def create_token(self, user_name: str, token_name: str) -> str:
        """A new API token for the account; the secret is shown once and only its hash is kept."""
        secret = "trk_" + secrets.token_urlsafe(32)
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
                )
            )
        return secret

    def by_token(self, secret: str) -> UserInfo | None:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        with self._db.begin() as db:
            row = db.execute(
                sa.select(ApiToken, User).join(User, ApiToken.user_id == User.id).where(ApiToken.token_sha256 == digest)
            ).first()
            if row is None:
                return None
            token, user = row
            token.last_used_ms = self._clock.now_ms()
            return UserInfo(user.id, user.name, user.password_hash is not None)
