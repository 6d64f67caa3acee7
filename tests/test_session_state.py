"""A new Gradio session's block configs are made when first read (tabs/session_state.py): the
same configs as Gradio's own eager ones, none made while the session starts on the event loop."""

from __future__ import annotations

import gradio as gr
from gradio.state_holder import SessionState

from tabs import session_state


def _demo() -> gr.Blocks:
    with gr.Blocks() as demo:
        name = gr.Textbox("fox", label="Name")
        count = gr.Slider(1, 8, value=2, step=1)
        out = gr.Markdown()
        gr.State([])
        name.submit(lambda a, b: f"{a} {b}", [name, count], out)
    return demo


def test_a_new_session_makes_no_block_config_until_one_is_read(monkeypatch):
    demo = _demo()
    assert session_state.install()
    eager = {key: demo.default_config.config_for_block(key, [], block)
             for key, block in demo.default_config.blocks.items() if key in demo.blocks}
    calls = []
    real = session_state.LazyBlockConfigs._take

    def counted(self, key):
        calls.append(key)
        return real(self, key)

    monkeypatch.setattr(session_state.LazyBlockConfigs, "_take", counted)
    state = SessionState(demo)
    assert calls == []  # nothing made as the session started
    assert isinstance(state.config_values, session_state.LazyBlockConfigs)
    some = next(iter(eager))
    assert some in state.config_values and state.config_values[some] == eager[some] and calls == [some]
    assert dict(state.config_values.items()) == eager  # all of them, as Gradio makes them
    assert len(state.config_values) == len(eager)


def test_a_value_changed_for_one_session_is_seen_in_its_configs_only():
    demo = _demo()
    session_state.install()
    first, second = SessionState(demo), SessionState(demo)
    textbox_id = next(key for key, block in demo.blocks.items() if isinstance(block, gr.Textbox))
    first._update_value_in_config(textbox_id, "badger")  # what Gradio does after an event's update
    assert first.config_values[textbox_id]["props"]["value"] == "badger"
    assert second.config_values[textbox_id]["props"]["value"] == "fox"
    assert [c["props"]["value"] for c in first.components if c.get("id") == textbox_id] == ["badger"]


def test_installing_twice_changes_nothing_more():
    assert session_state.install() and session_state.install()
    assert getattr(SessionState.__init__, "deferring_configs", False)
