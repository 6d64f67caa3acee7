"""docs/api.md is what `python -m tabs.api_reference` writes from the app's own API info."""

from __future__ import annotations

import pytest

from tabs import api_reference
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def generated() -> str:
    return api_reference.generate()


def test_the_committed_api_reference_is_current(generated):
    path = ROOT / "docs" / "api.md"
    committed = path.read_text(encoding="utf-8") if path.is_file() else ""
    if committed != generated:
        pytest.fail("docs/api.md is out of date: run python -m tabs.api_reference\n"
                    + api_reference.differences(committed, generated, path.relative_to(ROOT)), pytrace=False)


def test_every_public_endpoint_has_a_section_in_name_order(generated):
    headings = [line[len("## `"):-1] for line in generated.splitlines() if line.startswith("## `")]
    assert headings == sorted(headings)
    assert {"/generate", "/tokenize", "/models_status"} <= set(headings)


def test_the_text_is_the_same_on_every_build(generated):
    assert api_reference.generate() == generated


def test_types_defaults_and_choices_as_gradio_gives_them():
    info = {"named_endpoints": {
        "/zeta": {"description": "Last.\n  Two lines.", "parameters": [], "returns": []},
        "/mid": {"description": "Said.", "returns_description": "the | saved PNG",
                 "parameters": [{"parameter_name": "seed", "parameter_has_default": True, "parameter_default": -1,
                                 "type": {"type": "integer"}, "python_type": {"type": "int"},
                                 "description": "-1 = random | new"}],
                 "returns": [{"python_type": {"type": "Any"}, "component": "Api"}]},
        "/alpha": {
            "description": "Draw `n` things. mode: a | b.",
            "parameters": [
                {"parameter_name": "n", "parameter_has_default": False, "parameter_default": None,
                 "type": {"type": "integer"}, "python_type": {"type": "int"}},
                {"parameter_name": "mode", "parameter_has_default": True, "parameter_default": "a",
                 "type": {"enum": ["a", "b"]}, "python_type": {"type": "Literal['a', 'b']"}},
                {"parameter_name": "size", "parameter_has_default": True, "parameter_default": None,
                 "type": {"oneOf": [{"type": "null"}, {"enum": ["1×1", "2×1"]}]},
                 "python_type": {"type": "None | Literal['1×1', '2×1']"}},
                {"parameter_name": "cfg", "parameter_has_default": True, "parameter_default": None,
                 "type": {"oneOf": [{"type": "null"}, {"type": "number"}]}, "python_type": {"type": "None | float"}},
            ],
            "returns": [{"python_type": {"type": "str"}, "component": "Textbox"},
                        {"python_type": {"type": "filepath"}, "component": "Image"}],
        },
    }}
    text = api_reference.render(info)
    assert text.index("## `/alpha`") < text.index("## `/zeta`")
    assert "| 1 | `n` | `int` | required |" in text
    assert "| 2 | `mode` | one of `'a'`, `'b'` | `'a'` |" in text
    assert "| 3 | `size` | `None` or one of `'1×1'`, `'2×1'` | `None` |" in text
    assert "| 4 | `cfg` | `None \\| float` | `None` |" in text
    assert "1. `str` (Textbox)\n2. `filepath` (Image)" in text
    assert "Last. Two lines.\n\nNo parameters.\n\nReturns nothing.\n" in text
    assert "[`/alpha`](#alpha), [`/mid`](#mid), [`/zeta`](#zeta)" in text
    # Descriptions from the docstring's Args: and Returns: sections, where it has them.
    assert "| # | parameter | type | default | description |" in text
    assert "| 1 | `seed` | `int` | `-1` | -1 = random \\| new |" in text
    assert "Returns `Any`: the | saved PNG" in text
    assert "| # | parameter | type | default |\n" in text  # no empty description column for /alpha


def test_descriptions_come_from_gradios_own_docstring_reader():
    import gradio as gr

    def paint(image: str, seed: int = -1) -> dict:
        """Paint `image`.

        Args:
            image: the picture
            seed: -1 = random
        Returns:
            the saved PNG
        """
        return {}

    with gr.Blocks() as demo:
        gr.api(paint, api_name="paint")
    endpoint = api_reference.collect(demo)["named_endpoints"]["/paint"]
    assert endpoint["description"] == "Paint `image`."
    assert [p["description"] for p in endpoint["parameters"]] == ["the picture", "-1 = random"]
    assert endpoint["returns_description"] == "the saved PNG"


def test_check_fails_on_a_stale_file_and_passes_once_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(api_reference, "generate", lambda: "# API reference\n\nnew\n")
    target = tmp_path / "api.md"
    target.write_text("# API reference\n\nold\n", encoding="utf-8")
    assert api_reference.main(["--check", "--output", str(target)]) == 1
    assert "run python -m tabs.api_reference" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8").endswith("old\n")  # --check writes nothing
    assert api_reference.main(["--output", str(target)]) == 0
    assert api_reference.main(["--check", "--output", str(target)]) == 0
