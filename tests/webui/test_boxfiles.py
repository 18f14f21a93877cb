"""Per-box secrets: the session key and the one-time setup code, both 0600 in data_dir."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from appliance.box import files as boxfiles
from appliance.cli import main
from appliance.config import Config
from appliance.store import Store


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_session_secret_is_made_once_0600_and_kept(config: Config, store: Store) -> None:
    first = boxfiles.session_secret(config.data_dir)
    path = config.data_dir / boxfiles.SECRET_FILE
    assert len(first) == 32 and mode_of(path) == 0o600
    assert boxfiles.session_secret(config.data_dir) == first


def test_a_damaged_secret_is_replaced_and_a_loose_one_tightened(
    config: Config, store: Store
) -> None:
    path = config.data_dir / boxfiles.SECRET_FILE
    path.write_text("not hex")
    path.chmod(0o644)
    fresh = boxfiles.session_secret(config.data_dir)
    assert len(fresh) == 32 and mode_of(path) == 0o600


def test_setup_code_exists_only_until_the_first_admin(config: Config, store: Store) -> None:
    code = boxfiles.ensure_setup_code(config.data_dir, store)
    assert code is not None and len(code) == 19 and code.count("-") == 3
    path = config.data_dir / boxfiles.SETUP_CODE_FILE
    assert mode_of(path) == 0o600
    assert boxfiles.ensure_setup_code(config.data_dir, store) == code  # stable until used
    assert boxfiles.check_setup_code(config.data_dir, code)
    assert boxfiles.check_setup_code(config.data_dir, code.replace("-", " ").lower())
    assert not boxfiles.check_setup_code(config.data_dir, "AAAA-AAAA-AAAA-AAAA")
    assert not boxfiles.check_setup_code(config.data_dir, "")
    store.users.add("admin", "$argon2id$x", "admin", actor="t", first=True)
    assert boxfiles.ensure_setup_code(config.data_dir, store) is None
    assert not path.exists()
    assert not boxfiles.check_setup_code(config.data_dir, code)


def test_a_damaged_setup_code_is_replaced(config: Config, store: Store) -> None:
    (config.data_dir / boxfiles.SETUP_CODE_FILE).write_text("0000")
    code = boxfiles.ensure_setup_code(config.data_dir, store)
    assert code is not None and "0" not in code
    assert not boxfiles.check_setup_code(config.data_dir, "0000")


def test_init_prints_the_setup_code_until_an_admin_exists(
    tmp_path: Path, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    toml = str(tmp_path / "doorward.toml")
    assert main(["--config", toml, "init"]) == 0
    out = capsys.readouterr().out
    code = (config.data_dir / boxfiles.SETUP_CODE_FILE).read_text().strip()
    assert boxfiles.format_code(code) in out and "setup code" in out
    with Store(config.db_path) as store:
        store.users.add("admin", "$argon2id$x", "admin", actor="t", first=True)
    assert main(["--config", toml, "init"]) == 0
    assert "setup code" not in capsys.readouterr().out


def test_web_before_init_says_run_init(
    tmp_path: Path, config: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "doorward.toml"), "web"]) == 1
    assert "doorward init" in capsys.readouterr().err


def test_web_prints_the_setup_code_and_serves_with_waitress(
    tmp_path: Path,
    config: Config,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import waitress

    served: dict[str, object] = {}

    def serve(app: object, **kwargs: object) -> None:
        served.update(kwargs, app=app)

    monkeypatch.setattr(waitress, "serve", serve)
    toml = str(tmp_path / "doorward.toml")
    assert main(["--config", toml, "init"]) == 0
    capsys.readouterr()
    assert main(["--config", toml, "web", "--host", "0.0.0.0", "--port", "8443"]) == 0
    out = capsys.readouterr().out
    code = (config.data_dir / boxfiles.SETUP_CODE_FILE).read_text().strip()
    assert boxfiles.format_code(code) in out and "http://0.0.0.0:8443/" in out
    assert served["host"] == "0.0.0.0" and served["port"] == 8443
    assert main(["--config", toml, "web", "--port", "70000"]) == 2
