"""One typed Settings object, built from defaults < TOML config < environment < flags.

Every option is declared once, in ``OPTIONS``: the Settings fields, the command-line
parser, the ``STUDIO_*`` environment variables, the TOML keys and the validation all
come from that table, so a new option is one new entry.

No heavy imports here: the app must start fast, so torch is only touched when a
model is first needed (see ``studio.devices``).
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

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


ROLES = ("admin", "teacher", "student")  # an auth file's third column; admin and teacher are the same role


def parse_auth_line(text: str) -> tuple[str, str, str]:
    """``user:password`` or ``user:password:role`` (role: admin, teacher or student)."""
    user, password = parse_auth_pair(text)
    rest, sep, role = password.rpartition(":")
    if sep and role.strip().lower() in ROLES and rest:
        return user, rest, role.strip().lower()
    return user, password, "student"


def read_auth_lines(path: Path) -> list[tuple[str, str, str]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(f"auth file {path} cannot be read: {exc.strerror}.") from None
    entries = [parse_auth_line(line.strip()) for line in lines if line.strip() and not line.startswith("#")]
    if not entries:
        raise SettingsError(f"auth file {path} holds no user:password line.")
    return entries


def read_auth_file(path: Path) -> list[tuple[str, str]]:
    return [(user, password) for user, password, _ in read_auth_lines(path)]


# --- coercers: (label, raw value from a flag, env var or TOML) -> typed, checked value ----

Coercer = Callable[[str, Any], Any]


def as_text(label: str, value: Any) -> str:
    return str(value)


def as_bool(label: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{label} must be true or false, not {value!r}.")


def whole_number(low: int, high: int) -> Coercer:
    def coerce(label: str, value: Any) -> int:
        if isinstance(value, bool):  # TOML `port = true` is not a number
            raise SettingsError(f"{label} must be a whole number, not {value!r}.")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{label} must be a whole number, not {value!r}.") from None
        if not low <= number <= high:
            raise SettingsError(f"{label} must be between {low} and {high}, not {number}.")
        return number

    return coerce


def one_of(choices: Sequence[str]) -> Coercer:
    def coerce(label: str, value: Any) -> str:
        text = str(value)
        if text not in choices:
            raise SettingsError(f"{label} must be one of {', '.join(choices)}; got {text!r}.")
        return text

    coerce.choices = tuple(choices)  # shown by --help
    return coerce


def folder(label: str, value: Any) -> Path:
    if value in (None, ""):
        raise SettingsError(f"{label} cannot be empty.")
    return Path(value)


def optional_path(label: str, value: Any) -> Path | None:
    return None if value in (None, "") else Path(value)


def ray_address(label: str, value: Any) -> str | None:
    """A Ray cluster's address ("auto": a local Ray instance, started when none runs); off when empty."""
    text = str(value or "").strip()
    if text.lower() in ("", "off", "none", "false", "0"):
        return None
    if any(c.isspace() for c in text) or len(text) > 200:
        raise SettingsError(f"{label} must be a Ray address such as 10.0.0.5:6379, ray://host:10001 or auto; got {text[:60]!r}.")
    return text


def decimal(low: float, high: float) -> Coercer:
    def coerce(label: str, value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{label} must be a number, not {value!r}.") from None
        if not low <= number <= high:  # also refuses NaN
            raise SettingsError(f"{label} must be between {low:g} and {high:g}, not {value!r}.")
        return number

    return coerce


def vram_budget(label: str, value: Any) -> str:
    parse_budget(str(value))
    return str(value)


def auth_list(label: str, value: Any) -> tuple[tuple[str, str], ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(parse_auth_pair(str(item).strip()) for item in items if str(item).strip())


def names_list(label: str, value: Any) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


def model_table(label: str, value: Any) -> dict[str, str]:
    """Capability name -> Hub id (or local folder). Whether each name is a catalog entry is the
    catalog's to say (studio.models.catalog.check_overrides), where settings are put to use."""
    if not isinstance(value, Mapping):
        raise SettingsError('[models] in the config file must be a table of name = "hub/id".')
    table = {str(name).strip(): str(model_id).strip() for name, model_id in value.items()}
    for name, model_id in table.items():
        if not model_id:
            raise SettingsError(f"--model {name}= needs a model id after the '='.")
    return table


# --- the table of options ------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One setting: its field name, default, how to read and check it, and its --help line.

    The flag is ``--name-with-dashes`` (plus ``aliases``), the environment variable
    ``STUDIO_NAME`` and the TOML key ``name`` or ``name-with-dashes``. ``form`` says how
    the flag is written: "value" (--port 8000), "switch" (--share), "repeat" (--auth a:1
    --auth b:2) or "pairs" (--model text=owner/id, collected into a table; its environment
    variables are ``STUDIO_<FLAG>_<NAME>`` and its TOML form is a ``[name]`` table).
    """

    name: str
    default: Any
    coerce: Coercer
    help: str
    metavar: str | None = None
    aliases: tuple[str, ...] = ()
    form: str = "value"
    flag: str | None = None  # when it differs from the name, e.g. --model for models

    @property
    def label(self) -> str:
        return self.name.replace("_", "-")

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag or f"--{self.label}",) + self.aliases

    @property
    def env(self) -> str:
        """The variable, or for "pairs" the prefix of the variables."""
        if self.form == "pairs":
            return ENV_PREFIX + self.flags[0].lstrip("-").replace("-", "_").upper() + "_"
        return ENV_PREFIX + self.name.upper()

    def help_line(self) -> str:
        unset = self.default is None or self.default is False or self.default in ((), {})
        shown = "" if unset else f" (default {self.default})"
        env = f"{self.env}<NAME>" if self.form == "pairs" else self.env
        return f"{self.help}{shown} [{env}]".replace("%", "%%")  # argparse formats help with %


OPTIONS: tuple[Option, ...] = (
    Option("config", None, optional_path, "TOML config file; ./studio.toml is read if present", "FILE"),
    Option("profile", "standard", one_of(PROFILES), "standard: real Hub models; tiny: offline random-weight twins"),
    Option("host", "127.0.0.1", as_text, "address to listen on; 0.0.0.0 for the LAN", "ADDR", aliases=("--listen",)),
    Option("port", 7860, whole_number(1, 65535), "port", "N"),
    Option("share", False, as_bool, "also open a temporary public link (use with --auth)", form="switch"),
    Option("auth", (), auth_list, "require a login; repeat for several users (env: comma separated)", "USER:PASS", form="repeat"),
    Option("auth_file", None, optional_path, "file with one user:password per line (user:password:admin for a teacher)", "FILE"),
    # The teacher: frees memory, picks where GPU work runs, may use any Hub id, cancels anyone's run, sets the limits.
    Option("admin", (), names_list, "a teacher (admin) login; repeat for several (env: comma separated)", "USER", form="repeat"),
    # One password for the whole class: any name, and each browser owns its own results.
    Option("class_password", "", as_text, "one password for a whole class (any user name); each browser keeps its own results", "PASSWORD"),
    Option("device", "auto", one_of(DEVICES), "where models run"),
    Option("dtype", "auto", one_of(DTYPES), "weights precision; auto = bf16/fp16 on GPU, fp32 on CPU"),
    # "0.8" = 80 % of free device memory at start-up; "6GB" / "6" = a fixed size.
    Option("vram_budget", "0.85", vram_budget, "memory the model cache may use: 0.85 = 85% of free memory, 6GB = fixed", "GB|FRACTION"),
    # Opt-in: image denoisers stored in fp8 (computed in bf16/fp16 layer by layer) when that is what
    # lets a checkpoint fit: about half their memory, a small loss of fine detail.
    Option("fp8_storage", False, as_bool, "store an image model's denoiser in fp8 when it would not fit otherwise (half the memory, slightly less detail)", "on|off"),
    Option("concurrency", 1, whole_number(1, 64), "GPU events running at once; others wait in the queue", "N"),
    # Image, edit, face, describe and local text work on Ray Serve replicas (pip install "ray[serve]").
    Option("ray", None, ray_address, "run GPU work on a Ray cluster's replicas: its address, or auto for a local one", "ADDRESS"),
    Option("ray_replicas", 0, whole_number(0, 256), "replicas on the Ray cluster; 0 = one per GPU (2 on a cluster without GPUs)", "N"),
    Option("ray_replica_cpus", 1, whole_number(1, 256), "CPUs each replica takes on a cluster without GPUs", "N"),
    # Each GPU call through ZeroGPU's own fork-and-pickle path, on this machine (tests, and a check
    # before pushing to a Space): what cannot be pickled fails here as it would there.
    Option("zero_gpu_emulate", False, as_bool, "run GPU calls as a ZeroGPU Space does: in a forked worker, arguments and results pickled", "on|off"),
    # A class's limits: a student's, never the teacher's (who may change them in the Teacher tab).
    Option("student_runs", 2, whole_number(1, 100), "GPU runs one student may have going or waiting at once (the teacher is not limited)", "N"),
    Option("student_images", 4, whole_number(1, 8), "most images one student may ask for in one request", "N"),
    Option("student_megapixels", 1.2, decimal(0.05, 16.0), "largest picture a student may ask for, in megapixels (1024×1024 is 1.05)", "MP"),
    Option("student_steps", 60, whole_number(1, 150), "most diffusion steps a student may ask for", "N"),
    Option("student_train_steps", 500, whole_number(1, 1_000_000), "most training steps in a student's job", "N"),
    Option("student_jobs", 2, whole_number(1, 20), "training jobs one student may have running or waiting", "N"),
    Option("allow_model", (), names_list, "a Hub id students may pick beyond the catalog (repeat; the teacher may use any)", "HUB_ID", form="repeat"),
    # A picture shown to a class is checked first: on by itself when others can reach the studio.
    Option("safety_checker", "auto", one_of(("auto", "on", "off")), "black out NSFW pictures; auto = on when others can reach the studio (--share, --listen, a Space)"),
    Option("queue_size", 64, whole_number(1, 10_000), "most requests waiting in the queue; more are turned away with a message", "N"),
    # Everything that must outlive a restart (a Space's disk is wiped on restart, /data is not).
    Option("data", None, optional_path, "folder for everything that must last: results, jobs, LoRAs, the browser-id secret, your model folders (on a Space with persistent storage: /data)", "DIR"),
    Option("outputs", Path("outputs"), folder, "folder for results", "DIR"),
    Option("max_upload_mb", 50, whole_number(1, 10_000), "largest upload accepted, in MB", "N"),
    Option("lang", "auto", one_of(LANGS), "UI language; auto follows the browser"),
    Option("cache_dir", Path(".cache") / "studio", folder, "where tiny twins are built", "DIR"),
    # User model files, in the folders Fooocus and A1111 users know.
    Option("checkpoints_dir", Path("models") / "checkpoints", folder, "image model checkpoints (.safetensors)", "DIR"),
    Option("loras_dir", Path("models") / "loras", folder, "LoRA files", "DIR"),
    Option("upscalers_dir", Path("models") / "upscalers", folder, "upscaler models", "DIR"),
    Option("faces_dir", Path("models") / "faces", folder, "face detection / swap / restoration models", "DIR"),
    Option("wildcards_dir", Path("wildcards"), folder, "wildcard files: __name__ in a prompt picks a line of name.txt", "DIR"),
    Option("styles_dir", Path("styles"), folder, "your own style files: Fooocus-style .json lists and A1111 styles.csv", "DIR"),
    Option("presets_dir", Path("presets"), folder, "your own Fooocus-style preset .json files (beside assets/presets)", "DIR"),
    Option("training", True, as_bool, "allow LoRA fine-tuning jobs (the Train tab); off refuses them with a sentence", "on|off"),
    # Capability name -> Hub id override, e.g. {"text": "Qwen/Qwen2.5-0.5B-Instruct"}.
    Option("models", {}, model_table, "override a catalog model, e.g. text=Qwen/Qwen2.5-1.5B-Instruct", "NAME=HUB_ID", form="pairs", flag="--model"),
)
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}


def _fields_from_options(cls: type) -> type:
    """Give ``cls`` one frozen dataclass field per option, with the option's default."""
    cls.__annotations__ = {}
    for option in OPTIONS:
        default = option.default
        cls.__annotations__[option.name] = Any if default is None else Path if isinstance(default, Path) else type(default)
        if isinstance(default, (dict, list)):
            setattr(cls, option.name, field(default_factory=lambda d=default: type(d)(d)))
        else:
            setattr(cls, option.name, default)
    return dataclass(frozen=True)(cls)


@_fields_from_options
class Settings:
    """Every option as an attribute (``settings.port``, ``settings.models``, ...)."""

    @property
    def is_tiny(self) -> bool:
        return self.profile == "tiny"

    @property
    def is_exposed(self) -> bool:
        """Reachable by other people: a public link, or listening beyond this computer."""
        return self.share or self.host not in LOOPBACK_HOSTS

    @property
    def safety_on(self) -> bool:
        """Whether pictures are checked before anyone sees them (the Teacher tab may switch it)."""
        return self.safety_checker == "on" or (self.safety_checker == "auto" and self.is_exposed)

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

    @property
    def has_logins(self) -> bool:
        """The page asks for a login (named users, or the class password)."""
        return bool(self.auth or self.auth_file or self.class_password)

    def admins(self) -> frozenset[str]:
        """The teachers: --admin names plus the auth file's admin (or teacher) lines."""
        names = set(self.admin)
        if self.auth_file is not None:
            names |= {user for user, _, role in read_auth_lines(self.auth_file) if role in ("admin", "teacher")}
        return frozenset(names)

    def is_named_user(self, name: str) -> bool:
        """A login of its own (--auth, the auth file), not one of the class's class-password entries."""
        return not self.class_password or name in {user for user, _ in self.auth_pairs()}

    def vram_budget_spec(self) -> tuple[str, float]:
        """('fraction', 0.85) or ('bytes', 6e9)."""
        return parse_budget(self.vram_budget)


# --- reading the sources -----------------------------------------------------------


def _coerce(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Turn strings from env/TOML/flags into typed, validated values."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        option = OPTIONS_BY_NAME.get(key)
        if option is None:
            raise SettingsError(f"unknown setting {key!r}.")
        out[key] = option.coerce(option.label, value)
    return out


def _pairs(option: Option, items: Sequence[str]) -> dict[str, str]:
    """["text=owner/id", ...] from repeated flags -> {"text": "owner/id"}."""
    table = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SettingsError(f"{option.flags[0]} {item!r} must look like name=owner/model.")
        table[name.strip()] = value.strip()
    return table


def settings_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for option in OPTIONS:
        if option.form == "pairs":  # e.g. STUDIO_MODEL_TEXT=Qwen/Qwen2.5-0.5B-Instruct
            table = {
                key[len(option.env):].lower(): value
                for key, value in env.items()
                if key.startswith(option.env) and value
            }
            if table:
                raw[option.name] = table
        elif option.env in env:
            raw[option.name] = env[option.env]
    return raw


def settings_from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"config file {path} cannot be read: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}.") from None
    data = {key.replace("-", "_"): value for key, value in data.items()}
    unknown = set(data) - set(OPTIONS_BY_NAME)
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
        argument_default=argparse.SUPPRESS,  # only flags actually given override other layers
        epilog=(
            "examples:\n"
            "  python app.py                          real models from the Hugging Face Hub\n"
            "  python app.py --profile tiny           offline: small random-weight twins (noise outputs)\n"
            "  python app.py --share --auth teacher:s3cret   a temporary public link for a class\n"
        ),
    )
    for option in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option.name, "help": option.help_line()}
        if option.form == "switch":
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = option.metavar
            kwargs["choices"] = getattr(option.coerce, "choices", None)
            if option.form in ("repeat", "pairs"):
                kwargs["action"] = "append"
        parser.add_argument(*option.flags, **kwargs)
    return parser


def _flags_to_raw(namespace: argparse.Namespace) -> dict[str, Any]:
    raw = dict(vars(namespace))
    for option in OPTIONS:
        if option.form == "pairs" and option.name in raw:
            raw[option.name] = _pairs(option, raw[option.name])
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
    for layer in (defaults, from_file, from_env, flags):
        for key, value in layer.items():
            option = OPTIONS_BY_NAME.get(key)
            if option is not None and option.form == "pairs" and isinstance(value, Mapping):
                value = {**merged.get(key, {}), **value}  # tables merge name by name across layers
            merged[key] = value
    if config_path:
        merged["config"] = str(config_path)
    _under_data(merged, env)
    settings = Settings(**_coerce(merged))
    if settings.auth_file is not None:
        read_auth_file(settings.auth_file)  # fail at start, not at first login
    return settings


# The folders that must outlive a restart: with --data (or a Space's /data), each one not set on
# its own moves under it, keeping its name.
LASTING_FOLDERS = ("outputs", "cache_dir", "checkpoints_dir", "loras_dir", "upscalers_dir", "faces_dir", "wildcards_dir",
                   "styles_dir", "presets_dir")
SPACE_STORAGE = Path("/data")  # a Space's persistent storage, when the Space has it


def _under_data(merged: dict[str, Any], env: Mapping[str, str]) -> None:
    data = merged.get("data")
    if data in (None, "") and env.get("SPACE_ID") and SPACE_STORAGE.is_dir() and os.access(SPACE_STORAGE, os.W_OK):
        data = merged["data"] = str(SPACE_STORAGE)
    if data in (None, ""):
        return
    for name in LASTING_FOLDERS:
        if name not in merged:
            merged[name] = Path(data) / OPTIONS_BY_NAME[name].default


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **_coerce(changes))
