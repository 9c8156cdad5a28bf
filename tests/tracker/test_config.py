"""config.toml parsing: the documented file parses to the defaults; bad keys and values name the key."""

from pathlib import Path

import pytest

from tests.conftest import REPO
from tracker.config import Config, ConfigError, load_config, parse_config


def test_documented_config_equals_the_built_in_defaults() -> None:
    cfg = load_config(REPO / "config.toml", env={})
    defaults = Config(base_dir=REPO)
    assert cfg == defaults
    assert cfg.database_url == f"sqlite:///{(REPO / 'data' / 'tracker.db').resolve()}"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"web": {"port": "80"}}, "[web] port: expected int"),
        ({"web": {"port": 70000}}, "[web] port: must be a TCP port"),
        ({"web": {"colour": "red"}}, "unknown key [web] colour"),
        ({"webb": {}}, "unknown section [webb]"),
        ({"ble": {"backend": "bluez"}}, "[ble] backend: must be one of"),
        ({"people": {"default_timezone": "Mars/Olympus"}}, "[people] default_timezone: unknown IANA time zone"),
        ({"capture": {"morning_sync_time": "9am"}}, "[capture] morning_sync_time"),
        ({"sync": {"retry_backoff_s": [60, -1]}}, "[sync] retry_backoff_s"),
        ({"analysis": {"primary_lag": 4}}, "[analysis] primary_lag"),
        ({"capture": {"during": "yes"}}, "[capture] during: expected bool"),
        ({"web": {"locale": "German please"}}, "[web] locale: expected a language tag"),
    ],
)
def test_bad_config_names_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        parse_config(raw)
    assert message in str(info.value)


def test_overrides_by_environment(tmp_path: Path) -> None:
    path = tmp_path / "other.toml"
    path.write_text('[web]\nport = 9001\n[paths]\ndata_dir = "d"\n', encoding="utf-8")
    cfg = load_config(None, env={"TRACKER_CONFIG": str(path), "TRACKER_DATABASE_URL": "sqlite:///x.db"})
    assert cfg.web.port == 9001
    assert cfg.database_url == "sqlite:///x.db"
    assert cfg.data_dir == tmp_path / "d"


def test_invalid_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[web\nport=1", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_config(bad, env={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", env={})
