"""One typed Settings object, built from defaults < TOML config < environment < flags.

No heavy imports here: the app must start fast, so torch is only touched when a
model is first needed (see ``studio.devices``).
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROFILES = ("standard", "tiny")
DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "fp16", "bf16", "fp32")
LANGS = ("auto", "en", "zh-TW")
ENV_PREFIX = "STUDIO_"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    profile: str = "standard"
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    auth: tuple[tuple[str, str], ...] = ()
    auth_file: Path | None = None
    device: str = "auto"
    dtype: str = "auto"
    # "0.8" = 80 % of free device memory at start-up; "6GB" / "6" = a fixed size.
    vram_budget: str = "0.85"
    concurrency: int = 1
    outputs: Path = Path("outputs")
    max_upload_mb: int = 50
    lang: str = "auto"
    cache_dir: Path = Path(".cache") / "studio"
    # Capability name -> Hub id override, e.g. {"text": "Qwen/Qwen2.5-0.5B-Instruct"}.
    models: Mapping[str, str] = field(default_factory=dict)
    config: Path | None = None

    @property
    def is_tiny(self) -> bool:
        return self.profile == "tiny"

    @property
    def is_exposed(self) -> bool:
        """Reachable by other people: a public link, or listening beyond this computer."""
        return self.share or self.host not in LOOPBACK_HOSTS

    @property
    def tiny_dir(self) -> Path:
        return self.cache_dir / "tiny"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    def auth_pairs(self) -> list[tuple[str, str]]:
        """All credentials: --auth pairs plus lines of the auth file."""
        pairs = list(self.auth)
        if self.auth_file is not None:
            pairs += read_auth_file(self.auth_file)
        return pairs

    def vram_budget_spec(self) -> tuple[str, float]:
        """('fraction', 0.85) or ('bytes', 6e9)."""
        return parse_budget(self.vram_budget)


# --- parsing helpers ---------------------------------------------------------------

_BUDGET = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(gb|gib|g|mb|mib|m)?\s*$", re.IGNORECASE)


def parse_budget(text: str) -> tuple[str, float]:
    match = _BUDGET.match(str(text))
    if not match:
        raise SettingsError(
            f"vram-budget {text!r} is not understood: use a fraction like 0.8 or a size like 6GB."
        )
    value, unit = float(match.group(1)), (match.group(2) or "").lower()
    if not unit and value <= 1:
        if value <= 0:
            raise SettingsError("vram-budget must be above 0.")
        return "fraction", value
    scale = 1024**2 if unit.startswith("m") else 1024**3
    if value <= 0:
        raise SettingsError("vram-budget must be above 0.")
    return "bytes", value * scale


def parse_auth_pair(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise SettingsError(f"auth {text!r} must look like user:password (both non-empty).")
    return user, password


def read_auth_file(path: Path) -> list[tuple[str, str]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(f"auth file {path} cannot be read: {exc.strerror}.") from None
    pairs = [parse_auth_pair(line.strip()) for line in lines if line.strip() and not line.startswith("#")]
    if not pairs:
        raise SettingsError(f"auth file {path} holds no user:password line.")
    return pairs


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}.")


def _as_int(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be a whole number, not {value!r}.") from None
    if not low <= number <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {number}.")
    return number


def _choice(name: str, value: Any, choices: Sequence[str]) -> str:
    text = str(value)
    if text not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {text!r}.")
    return text


def _coerce(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn strings from env/TOML/flags into typed, validated values."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "profile":
            out[key] = _choice("profile", value, PROFILES)
        elif key == "device":
            out[key] = _choice("device", value, DEVICES)
        elif key == "dtype":
            out[key] = _choice("dtype", value, DTYPES)
        elif key == "lang":
            out[key] = _choice("lang", value, LANGS)
        elif key == "port":
            out[key] = _as_int("port", value, 1, 65535)
        elif key == "concurrency":
            out[key] = _as_int("concurrency", value, 1, 64)
        elif key == "max_upload_mb":
            out[key] = _as_int("max-upload-mb", value, 1, 10_000)
        elif key == "share":
            out[key] = _as_bool("share", value)
        elif key == "vram_budget":
            parse_budget(str(value))
            out[key] = str(value)
        elif key == "auth":
            items = value.split(",") if isinstance(value, str) else list(value)
            out[key] = tuple(parse_auth_pair(str(item).strip()) for item in items if str(item).strip())
        elif key in ("auth_file", "outputs", "cache_dir", "config"):
            out[key] = Path(value) if value not in (None, "") else None
        elif key == "host":
            out[key] = str(value)
        elif key == "models":
            if not isinstance(value, Mapping):
                raise SettingsError("[models] in the config file must be a table of name = \"hub/id\".")
            out[key] = {str(k): str(v) for k, v in value.items()}
        else:
            raise SettingsError(f"unknown setting {key!r}.")
    if out.get("outputs", "set") is None or out.get("cache_dir", "set") is None:
        raise SettingsError("outputs and cache-dir cannot be empty.")
    return out


_FIELDS = {f.name for f in fields(Settings)}


def settings_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    raw = {}
    for name in _FIELDS - {"models"}:
        key = ENV_PREFIX + name.upper()
        if key in env:
            raw[name] = env[key]
    # Models: STUDIO_MODEL_TEXT=Qwen/Qwen2.5-0.5B-Instruct
    models = {
        key[len(ENV_PREFIX + "MODEL_"):].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX + "MODEL_") and value
    }
    if models:
        raw["models"] = models
    return raw


def settings_from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"config file {path} cannot be read: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}.") from None
    data = {key.replace("-", "_"): value for key, value in data.items()}
    unknown = set(data) - _FIELDS
    if unknown:
        raise SettingsError(f"config file {path} has unknown settings: {', '.join(sorted(unknown))}.")
    return data


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description=(
            "Generative-AI studio: text generation, tokenizer visualiser and more in one Gradio app.\n"
            "Every flag can also be set by an environment variable (shown in brackets) or in a TOML\n"
            "config file; precedence is defaults < config file < environment < flags."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
        epilog=(
            "examples:\n"
            "  python app.py                          real models from the Hugging Face Hub\n"
            "  python app.py --profile tiny           offline: small random-weight twins (noise outputs)\n"
            "  python app.py --share --auth teacher:s3cret   a temporary public link for a class\n"
        ),
    )
    add = parser.add_argument
    add("--config", metavar="FILE", help="TOML config file [STUDIO_CONFIG]; ./studio.toml is read if present")
    add("--profile", choices=PROFILES, help="standard: real Hub models; tiny: offline random-weight twins [STUDIO_PROFILE] (default standard)")
    add("--host", "--listen", dest="host", metavar="ADDR", help="address to listen on; 0.0.0.0 for the LAN [STUDIO_HOST] (default 127.0.0.1)")
    add("--port", type=int, help="port [STUDIO_PORT] (default 7860)")
    add("--share", action="store_true", help="also open a temporary public link (use with --auth) [STUDIO_SHARE]")
    add("--auth", action="append", metavar="USER:PASS", help="require a login; repeat for several users [STUDIO_AUTH, comma separated]")
    add("--auth-file", metavar="FILE", help="file with one user:password per line [STUDIO_AUTH_FILE]")
    add("--device", choices=DEVICES, help="where models run [STUDIO_DEVICE] (default auto)")
    add("--dtype", choices=DTYPES, help="weights precision; auto = bf16/fp16 on GPU, fp32 on CPU [STUDIO_DTYPE]")
    add("--vram-budget", metavar="GB|FRACTION", help="memory the model cache may use: 0.85 = 85%% of free memory, 6GB = fixed [STUDIO_VRAM_BUDGET]")
    add("--concurrency", type=int, help="GPU events running at once (default 1) [STUDIO_CONCURRENCY]")
    add("--outputs", metavar="DIR", help="folder for results (default ./outputs) [STUDIO_OUTPUTS]")
    add("--max-upload-mb", type=int, help="largest upload accepted (default 50) [STUDIO_MAX_UPLOAD_MB]")
    add("--lang", choices=LANGS, help="UI language; auto follows the browser [STUDIO_LANG]")
    add("--cache-dir", metavar="DIR", help="where tiny twins are built (default ./.cache/studio) [STUDIO_CACHE_DIR]")
    add("--model", action="append", metavar="NAME=HUB_ID", help="override a catalog model, e.g. text=Qwen/Qwen2.5-1.5B-Instruct [STUDIO_MODEL_<NAME>]")
    return parser


def _flags_to_raw(namespace: argparse.Namespace) -> dict[str, Any]:
    raw = dict(vars(namespace))
    if "auth" in raw:
        raw["auth"] = list(raw["auth"])
    if "model" in raw:
        models = {}
        for item in raw.pop("model"):
            name, sep, hub_id = item.partition("=")
            if not sep or not name or not hub_id:
                raise SettingsError(f"--model {item!r} must look like name=owner/model.")
            models[name.strip()] = hub_id.strip()
        raw["models"] = models
    if raw.get("share") is True:
        raw["share"] = True
    return raw


def load_settings(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Defaults < config file < environment < flags, validated."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    flags = _flags_to_raw(build_parser().parse_args(list(argv or [])))
    from_env = settings_from_env(env)

    config_path = flags.get("config") or from_env.get("config")
    if config_path is None and (cwd / "studio.toml").is_file():
        config_path = cwd / "studio.toml"
    from_file = settings_from_toml(Path(config_path)) if config_path else {}

    defaults: dict[str, Any] = {}
    if env.get("SPACE_ID"):  # on a Hugging Face Space, listen where the Space proxy expects
        defaults["host"] = "0.0.0.0"

    merged: dict[str, Any] = {}
    models: dict[str, str] = {}
    for layer in (defaults, from_file, from_env, flags):
        layer = dict(layer)
        models.update(layer.pop("models", {}) or {})
        merged.update(layer)
    if models:
        merged["models"] = models
    if config_path:
        merged["config"] = str(config_path)
    settings = Settings(**_coerce(merged))
    if settings.auth_file is not None:
        read_auth_file(settings.auth_file)  # fail at start, not at first login
    return settings


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **_coerce(changes))
