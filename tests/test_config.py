import os
import stat

import pytest

from pat_manager import config, create_app


def test_defaults():
    settings = config.from_environ({})
    assert settings["FREE_TIER_PAT_LIMIT"] == 3
    assert settings["REGISTRATION"] == "open"
    assert settings["DATABASE"].endswith("instance/pat_manager.sqlite3")
    assert settings["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("FREE_TIER_PAT_LIMIT", "three", "must be a whole number"),
        ("FREE_TIER_PAT_LIMIT", "-1", "between 0 and 1000"),
        ("REGISTRATION", "maybe", "must be one of open, closed"),
        ("SECURE_COOKIES", "sometimes", "true or false"),
        ("LOG_LEVEL", "loud", "must be one of"),
    ],
)
def test_bad_values_say_what_to_fix(name, value, message):
    with pytest.raises(config.ConfigError, match=message) as info:
        config.from_environ({f"PAT_MANAGER_{name}": value})
    assert f"PAT_MANAGER_{name}" in str(info.value)


def test_secret_key_generated_once_with_private_permissions(tmp_path):
    first = config.load_secret_key(tmp_path)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.load_secret_key(tmp_path) == first
    assert len(first) >= 32


def test_world_readable_secret_key_is_refused(tmp_path):
    config.load_secret_key(tmp_path)
    os.chmod(tmp_path / "secret_key", 0o644)
    with pytest.raises(config.ConfigError, match="chmod 600"):
        config.load_secret_key(tmp_path)


def test_app_without_secret_key_generates_one_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("PAT_MANAGER_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app()
    assert (tmp_path / "inst" / "secret_key").exists()
    assert (tmp_path / "inst" / "pat_manager.sqlite3").exists()
    assert (
        app.config["SECRET_KEY"]
        == (tmp_path / "inst" / "secret_key").read_text().strip()
    )


def test_every_setting_is_documented_in_readme():
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    for setting in config.SETTINGS:
        assert f"PAT_MANAGER_{setting.name}" in readme, setting.name


def test_database_and_instance_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("PAT_MANAGER_INSTANCE_PATH", str(tmp_path / "inst"))
    create_app()
    assert stat.S_IMODE((tmp_path / "inst").stat().st_mode) == 0o700
    for name in [
        "pat_manager.sqlite3",
        "pat_manager.sqlite3-wal",
        "pat_manager.sqlite3-shm",
    ]:
        path = tmp_path / "inst" / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_database_in_missing_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PAT_MANAGER_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("PAT_MANAGER_DATABASE", str(tmp_path / "nope" / "db.sqlite3"))
    with pytest.raises(config.ConfigError, match="does not exist"):
        create_app()


def test_existing_instance_folder_is_made_private(tmp_path, monkeypatch):
    folder = tmp_path / "inst"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    monkeypatch.setenv("PAT_MANAGER_INSTANCE_PATH", str(folder))
    create_app()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
