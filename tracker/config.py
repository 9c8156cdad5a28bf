"""config.toml → frozen typed configuration, read once at start.

Every key has a default (the same one config.toml documents); an unknown key or a bad value raises
`ConfigError` naming the key, so a typo stops the program instead of being silently ignored.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.analysis.sleep import NIGHT_METRICS  # the metrics a primary endpoint may name



class ConfigError(ValueError):
    """A configuration key is unknown or has a bad value; the message names the key."""


def _hhmm(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError('expected local time "HH:MM"')
    return value


def _tz(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be > 0")
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError("must be >= 0")
    return value


def _percent(value: float) -> float:
    if not 0 <= value <= 100:
        raise ValueError("must be between 0 and 100")
    return value


def _lag(value: int) -> int:
    if value not in (1, 2, 3):
        raise ValueError("must be 1, 2 or 3 (first, second or third night after a session)")
    return value


def _port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise ValueError("must be a TCP port 0-65535")
    return value


def _one_of(*choices: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(repr(c) for c in choices)}")
        return value

    return check


def _backoff(value: list[Any]) -> tuple[float, ...]:
    if not value or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in value):
        raise ValueError("must be a non-empty list of positive numbers of seconds")
    return tuple(float(v) for v in value)


def _locale(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        raise ValueError('expected a language tag such as "de-DE" or "en-GB", or "" for the browser\'s')
    return value


def _networks(value: list[Any]) -> tuple[str, ...]:
    """Addresses or CIDR networks, e.g. ["127.0.0.1", "10.0.0.0/8"]."""
    if not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of addresses or networks, as strings")
    try:
        return tuple(str(ipaddress.ip_network(v, strict=False)) for v in value)
    except ValueError as exc:
        raise ValueError(f"not an address or network: {exc}") from None


def _check(fn: Callable[[Any], Any]) -> dict[str, Any]:
    return {"check": fn}


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = ""  # empty: SQLite file in data_dir
    sqlite_busy_timeout_ms: int = field(default=5000, metadata=_check(_non_negative))


@dataclass(frozen=True, slots=True)
class PathsConfig:
    data_dir: str = "data"


@dataclass(frozen=True, slots=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = field(default=8000, metadata=_check(_port))
    threads: int = field(default=4, metadata=_check(_positive))
    login_attempts_per_15min: int = field(default=5, metadata=_check(_positive))
    secure_cookies: bool = False  # send the session cookie over HTTPS only (behind a TLS reverse proxy)
    upload_max_mb: int = field(default=2048, metadata=_check(_positive))  # Data page imports, streamed to disk
    locale: str = field(default="", metadata=_check(_locale))  # charts' date/number style; "" = the browser's


    # Reverse proxies whose X-Forwarded-For is believed (for the sign-in limiter's client address); empty:
    # the connecting address is the client, whatever headers say.
    trusted_proxies: tuple[str, ...] = field(default=(), metadata=_check(_networks))


@dataclass(frozen=True, slots=True)
class PeopleConfig:
    default_timezone: str = field(default="UTC", metadata=_check(_tz))


@dataclass(frozen=True, slots=True)
class BleConfig:
    backend: str = field(default="system", metadata=_check(_one_of("system", "bumble")))
    transport: str = "emulator"
    scan_s: float = field(default=10.0, metadata=_check(_positive))
    request_timeout_s: float = field(default=10.0, metadata=_check(_positive))
    connect_attempts: int = field(default=4, metadata=_check(_positive))
    keep_data_on_band: bool = False  # Huami bands: fetch without the ack that lets the band drop the data
    configure_band_heart_rate: bool = True  # at pairing, set a band to measure heart rate every minute


@dataclass(frozen=True, slots=True)
class SyncConfig:
    interval_min: int = field(default=30, metadata=_check(_positive))
    jitter_s: int = field(default=120, metadata=_check(_non_negative))
    first_sync_days: int = field(default=7, metadata=_check(_positive))
    retry_backoff_s: tuple[float, ...] = field(default=(60.0, 300.0, 900.0), metadata=_check(_backoff))


@dataclass(frozen=True, slots=True)
class CaptureConfig:
    pre_min: float = field(default=5.0, metadata=_check(_positive))
    during: bool = False
    post_min: float = field(default=5.0, metadata=_check(_positive))
    post_delay_min: float = field(default=5.0, metadata=_check(_non_negative))
    morning_sync_time: str = field(default="09:00", metadata=_check(_hhmm))
    max_artifact_pct: float = field(default=5.0, metadata=_check(_percent))
    min_coverage_pct: float = field(default=80.0, metadata=_check(_percent))


@dataclass(frozen=True, slots=True)
class JobsConfig:
    nightly_summary_time: str = field(default="12:30", metadata=_check(_hhmm))
    misfire_grace_s: int = field(default=900, metadata=_check(_positive))


@dataclass(frozen=True, slots=True)
class AnalysisConfig:
    primary_metric: str = field(default="ln_rmssd_night", metadata=_check(_one_of(*NIGHT_METRICS)))
    primary_lag: int = field(default=1, metadata=_check(_lag))


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = field(default="INFO", metadata=_check(_one_of("DEBUG", "INFO", "WARNING", "ERROR")))


def _paths(value: list[Any]) -> tuple[str, ...]:
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("must be a list of paths (strings)")
    return tuple(value)


@dataclass(frozen=True, slots=True)
class ImportConfig:
    """[import]: files and folders `tracker run` re-imports when they change (e.g. a Syncthing-synced
    Gadgetbridge auto-export, a folder of FIT files)."""

    watch: tuple[str, ...] = field(default=(), metadata=_check(_paths))
    person: str = ""  # whose data the watched files are (NAME, ACCOUNT/NAME or id); empty: the only person
    interval_min: int = field(default=15, metadata=_check(_positive))
    # Folders under which web users may add watched paths on the Data page (each person's own list, in the
    # database). Empty: nobody may; the server never reads a path a web user names outside these.
    watch_roots: tuple[str, ...] = field(default=(), metadata=_check(_paths))

    def root_paths(self, base_dir: Path) -> tuple[Path, ...]:
        """`watch_roots` as absolute paths with symlinks and `..` resolved (relative ones from `base_dir`)."""
        out = []
        for entry in self.watch_roots:
            path = Path(entry).expanduser()
            out.append((path if path.is_absolute() else base_dir / path).resolve())
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration; `base_dir` is where relative paths are resolved."""

    database: DatabaseConfig = DatabaseConfig()
    paths: PathsConfig = PathsConfig()
    web: WebConfig = WebConfig()
    people: PeopleConfig = PeopleConfig()
    ble: BleConfig = BleConfig()
    sync: SyncConfig = SyncConfig()
    capture: CaptureConfig = CaptureConfig()
    jobs: JobsConfig = JobsConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    log: LogConfig = LogConfig()
    imports: ImportConfig = ImportConfig()  # the [import] section ("import" is a Python keyword)
    base_dir: Path = Path(".")

    @property
    def data_dir(self) -> Path:
        path = Path(self.paths.data_dir).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'tracker.db').resolve()}"

    def replace(self, **sections: Any) -> Config:
        """A copy with whole sections or fields replaced, e.g. `cfg.replace(web=WebConfig(port=0))`."""
        return dataclasses.replace(self, **sections)


_SECTIONS: dict[str, type] = {
    f.name: f.type if isinstance(f.type, type) else globals()[str(f.type)]
    for f in dataclasses.fields(Config)
    if f.name != "base_dir"
}
_SECTION_FIELD = {"import": "imports"}  # TOML section name -> Config field, where they differ
_SECTIONS = {next((k for k, v in _SECTION_FIELD.items() if v == name), name): cls for name, cls in _SECTIONS.items()}


def _coerce(section: str, key: str, f: dataclasses.Field[Any], value: Any) -> Any:
    name = f"[{section}] {key}"
    want = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if want == "bool":
        ok = isinstance(value, bool)
    elif want == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif want == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif want == "str":
        ok = isinstance(value, str)
    else:  # tuples are given as TOML arrays and checked by their validator
        ok = isinstance(value, list)
    if not ok:
        raise ConfigError(f"config: {name}: expected {want.replace('tuple[float, ...]', 'list').replace('tuple[str, ...]', 'list')}, got {value!r}")
    check = f.metadata.get("check")
    if check is not None:
        try:
            value = check(value)
        except ValueError as exc:
            raise ConfigError(f"config: {name}: {exc} (got {value!r})") from None
    return value


def parse_config(raw: Mapping[str, Any], base_dir: Path = Path(".")) -> Config:
    """Build a `Config` from parsed TOML; raise ConfigError naming the first bad or unknown key."""
    sections: dict[str, Any] = {}
    for section, body in raw.items():
        cls = _SECTIONS.get(section)
        if cls is None:
            raise ConfigError(f"config: unknown section [{section}] (known: {', '.join(_SECTIONS)})")
        if not isinstance(body, Mapping):
            raise ConfigError(f"config: [{section}] must be a table")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for key, value in body.items():
            if key not in fields:
                raise ConfigError(f"config: unknown key [{section}] {key} (known: {', '.join(fields)})")
            values[key] = _coerce(section, key, fields[key], value)
        sections[_SECTION_FIELD.get(section, section)] = cls(**values)
    return Config(**sections, base_dir=base_dir)


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the configuration: `path`, else $TRACKER_CONFIG, else ./config.toml if present, else defaults.

    $TRACKER_DATABASE_URL, when set, replaces [database] url.
    """
    env = os.environ if env is None else env
    if path is None and env.get("TRACKER_CONFIG"):
        path = Path(env["TRACKER_CONFIG"])
    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    if path is None:
        cfg = Config(base_dir=Path.cwd())
    else:
        try:
            with path.open("rb") as fh:  # tomllib needs binary mode
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config: file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path}: {exc}") from None
        cfg = parse_config(raw, base_dir=path.resolve().parent)
    if env.get("TRACKER_DATABASE_URL"):
        cfg = cfg.replace(database=dataclasses.replace(cfg.database, url=env["TRACKER_DATABASE_URL"]))
    return cfg
