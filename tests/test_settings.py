"""Settings: defaults < config file < environment < flags, and clear validation errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from studio.settings import OPTIONS, Settings, SettingsError, build_parser, load_settings, parse_budget


def test_defaults(tmp_path):
    s = load_settings([], env={}, cwd=tmp_path)
    assert (s.profile, s.host, s.port, s.device, s.dtype, s.concurrency) == (
        "standard", "127.0.0.1", 7860, "auto", "auto", 1,
    )
    assert s.auth_pairs() == []


def test_precedence_file_then_env_then_flags(tmp_path):
    (tmp_path / "studio.toml").write_text('port = 8001\nprofile = "tiny"\nconcurrency = 2\n[models]\ntext = "gpt2"\n')
    s = load_settings([], env={}, cwd=tmp_path)
    assert (s.port, s.profile, s.concurrency, s.models["text"]) == (8001, "tiny", 2, "gpt2")

    env = {"STUDIO_PORT": "8002", "STUDIO_MODEL_TEXT": "bigscience/bloom-560m"}
    s = load_settings([], env=env, cwd=tmp_path)
    assert (s.port, s.profile, s.models["text"]) == (8002, "tiny", "bigscience/bloom-560m")

    s = load_settings(["--port", "8003", "--model", "text=Qwen/Qwen2.5-0.5B-Instruct"], env=env, cwd=tmp_path)
    assert (s.port, s.profile, s.models["text"]) == (8003, "tiny", "Qwen/Qwen2.5-0.5B-Instruct")


def test_explicit_config_flag_and_listen_alias(tmp_path):
    config = tmp_path / "class.toml"
    config.write_text('host = "0.0.0.0"\nshare = true\n')
    s = load_settings(["--config", str(config)], env={}, cwd=tmp_path)
    assert s.host == "0.0.0.0" and s.share is True
    assert load_settings(["--listen", "10.0.0.5"], env={}, cwd=tmp_path).host == "10.0.0.5"


def test_space_defaults_to_all_interfaces(tmp_path):
    assert load_settings([], env={"SPACE_ID": "me/studio"}, cwd=tmp_path).host == "0.0.0.0"


def test_auth_from_flags_env_and_file(tmp_path):
    auth_file = tmp_path / "users.txt"
    auth_file.write_text("# class of 2026\nstudent1:pw1\nstudent2:pw2\n")
    s = load_settings(
        ["--auth", "teacher:secret", "--auth-file", str(auth_file)], env={}, cwd=tmp_path
    )
    assert s.auth_pairs() == [("teacher", "secret"), ("student1", "pw1"), ("student2", "pw2")]
    s = load_settings([], env={"STUDIO_AUTH": "a:1,b:2"}, cwd=tmp_path)
    assert s.auth_pairs() == [("a", "1"), ("b", "2")]


@pytest.mark.parametrize(
    "argv, env, message",
    [
        (["--port", "0"], {}, "port must be between"),
        ([], {"STUDIO_PORT": "eighty"}, "port must be a whole number"),
        (["--auth", "nopassword"], {}, "user:password"),
        (["--vram-budget", "lots"], {}, "vram-budget"),
        (["--vram-budget", "0"], {}, "above 0"),
        ([], {"STUDIO_PROFILE": "huge"}, "profile must be one of"),
        ([], {"STUDIO_SHARE": "maybe"}, "share must be true or false"),
        (["--concurrency", "0"], {}, "concurrency"),
        (["--auth-file", "/nonexistent/users.txt"], {}, "cannot be read"),
        (["--model", "text"], {}, "name=owner/model"),
    ],
)
def test_bad_values_give_clear_errors(tmp_path, argv, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(argv, env=env, cwd=tmp_path)


def test_bad_config_file(tmp_path):
    (tmp_path / "studio.toml").write_text("port = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings([], env={}, cwd=tmp_path)
    (tmp_path / "studio.toml").write_text("colour = 'blue'\n")
    with pytest.raises(SettingsError, match="unknown settings: colour"):
        load_settings([], env={}, cwd=tmp_path)


@pytest.mark.parametrize(
    "text, expected",
    [("0.8", ("fraction", 0.8)), ("6GB", ("bytes", 6 * 1024**3)), ("6", ("bytes", 6 * 1024**3)),
     ("512MB", ("bytes", 512 * 1024**2)), ("1.5 gib", ("bytes", 1.5 * 1024**3))],
)
def test_budget_parsing(text, expected):
    assert parse_budget(text) == expected


def test_a_typo_in_a_model_name_is_refused_with_the_known_names(tmp_path):
    from studio.context import StudioContext
    from studio.models.catalog import CATALOG, check_overrides

    with pytest.raises(SettingsError, match="'txet' is not a model name; known names: ") as caught:
        check_overrides(load_settings(["--model", "txet=foo/bar"], env={}, cwd=tmp_path))
    assert all(name in str(caught.value) for name in CATALOG)
    with pytest.raises(SettingsError, match="'txet' is not a model name"):
        check_overrides(load_settings([], env={"STUDIO_MODEL_TXET": "foo/bar"}, cwd=tmp_path))
    (tmp_path / "studio.toml").write_text('[models]\ntxet = "foo/bar"\n')
    with pytest.raises(SettingsError, match="'txet' is not a model name"):
        StudioContext(load_settings([], env={}, cwd=tmp_path))  # every entry point makes one


def test_model_overrides_merge_name_by_name_across_sources(tmp_path):
    (tmp_path / "studio.toml").write_text('[models]\ntext = "gpt2"\ntokenizer = "bigscience/bloom-560m"\n')
    s = load_settings(["--model", "text=Qwen/Qwen2.5-0.5B-Instruct"], env={}, cwd=tmp_path)
    assert s.models == {"text": "Qwen/Qwen2.5-0.5B-Instruct", "tokenizer": "bigscience/bloom-560m"}


def test_image_stack_folders_and_queue_size_from_every_source(tmp_path):
    s = load_settings([], env={}, cwd=tmp_path)
    assert (s.queue_size, s.checkpoints_dir, s.loras_dir, s.upscalers_dir, s.faces_dir) == (
        64, Path("models/checkpoints"), Path("models/loras"), Path("models/upscalers"), Path("models/faces"),
    )
    (tmp_path / "studio.toml").write_text('queue-size = 10\nloras-dir = "/data/loras"\n')
    env = {"STUDIO_CHECKPOINTS_DIR": "/data/ckpt", "STUDIO_QUEUE_SIZE": "20"}
    s = load_settings(["--faces-dir", "/data/faces", "--upscalers-dir", "up"], env=env, cwd=tmp_path)
    assert (s.queue_size, s.checkpoints_dir, s.loras_dir, s.upscalers_dir, s.faces_dir) == (
        20, Path("/data/ckpt"), Path("/data/loras"), Path("up"), Path("/data/faces"),
    )
    with pytest.raises(SettingsError, match="queue-size must be between 1 and"):
        load_settings(["--queue-size", "0"], env={}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="loras-dir cannot be empty"):
        load_settings([], env={"STUDIO_LORAS_DIR": ""}, cwd=tmp_path)


def test_every_option_is_a_field_a_flag_an_env_var_and_a_toml_key(tmp_path):
    """One table entry is enough: the parser, env, TOML and the Settings field follow from it."""
    help_text = build_parser().format_help()
    defaults = Settings()
    for option in OPTIONS:
        assert option.flags[0] in help_text and option.env in help_text
        assert getattr(defaults, option.name) == option.default
        if option.default is not None:  # each default passes its own check unchanged
            assert option.coerce(option.label, option.default) == option.default
    toml = "".join(f"{o.label} = {_toml_value(o)}\n" for o in OPTIONS if o.default is not None)
    (tmp_path / "studio.toml").write_text(toml)
    assert load_settings([], env={}, cwd=tmp_path) == replace(defaults, config=tmp_path / "studio.toml")


def _toml_value(option) -> str:
    if option.form == "pairs":
        return "{}"
    if option.form == "repeat":
        return "[]"
    if isinstance(option.default, bool):
        return str(option.default).lower()
    return f'"{option.default}"' if isinstance(option.default, (str, Path)) else str(option.default)


def test_flag_values_are_checked_by_the_same_rules_as_env_values(tmp_path):
    with pytest.raises(SettingsError, match="port must be a whole number, not 'eighty'"):
        load_settings(["--port", "eighty"], env={}, cwd=tmp_path)
    with pytest.raises(SettingsError, match="max-upload-mb must be between"):
        load_settings([], env={"STUDIO_MAX_UPLOAD_MB": "0"}, cwd=tmp_path)
