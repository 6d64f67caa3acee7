""""Send to": one helper for every tab that shows images and every tab that takes one, and for
text (a prompt and its negative) sent to a tab that draws from it.

A tab with an image input registers it as a target (``register``); a tab with results adds
a picker and a button (``source``). ``wire`` runs once every tab exists: it fills the
pickers with the targets and connects the buttons, so targets added by later tabs appear
in earlier tabs' pickers without any tab knowing the others. Text goes the same way
(``register_text`` / ``text_source``), by the server: Gradio then holds the new values, as
when they are typed, and the tab opens by its id in any UI language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import gradio as gr

if TYPE_CHECKING:
    from gradio.i18n import I18nData

    from tabs.i18n import Translator


@dataclass
class Target:
    key: str
    label: str | I18nData
    component: gr.components.Component
    tab_path: tuple[tuple[gr.Tabs | None, str], ...]  # (gr.Tabs, tab id) pairs to select, outermost first
    # Given the sent file's path as well: an image editor redraws what it shows (its PNG's
    # metadata, the prompt it was made with, is gone by its change event).
    sent: gr.State | None = None


@dataclass
class Source:
    picker: gr.Dropdown
    button: gr.Button
    value: gr.components.Component  # holds the path of the image to send (a gr.State)


@dataclass
class PromptTarget:
    prompt: gr.Textbox
    negative: gr.Textbox
    tab_id: str  # the main tab that holds them


@dataclass
class PromptSource:
    button: gr.Button
    prompt: gr.Textbox
    negative: gr.Textbox
    key: str  # the PromptTarget's


@dataclass
class SendTo:
    targets: dict[str, Target] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    main_tabs: gr.Tabs | None = None
    prompt_targets: dict[str, PromptTarget] = field(default_factory=dict)
    prompt_sources: list[PromptSource] = field(default_factory=list)

    def register(self, key: str, label: str | I18nData, component: gr.components.Component, tab_id: str,
                 inner: tuple = (), sent: gr.State | None = None) -> None:
        """``component`` (gr.Image / gr.File / gr.ImageEditor) can receive an image path; ``sent``
        receives it too, as it was sent."""
        self.targets[key] = Target(key, label, component, ((None, tab_id), *inner), sent)

    def source(self, picker_label: str | I18nData, button_label: str | I18nData, value: gr.State,
               elem_prefix: str) -> None:
        with gr.Row():
            picker = gr.Dropdown([], label=picker_label, scale=3, elem_id=f"{elem_prefix}-send-target")
            button = gr.Button(button_label, scale=1, elem_id=f"{elem_prefix}-send")
        self.sources.append(Source(picker, button, value))

    def register_prompt(self, key: str, prompt: gr.Textbox, negative: gr.Textbox, tab_id: str) -> None:
        """The main tab ``tab_id`` draws from ``prompt`` and ``negative``."""
        self.prompt_targets[key] = PromptTarget(prompt, negative, tab_id)

    def prompt_source(self, button: gr.Button, prompt: gr.Textbox, negative: gr.Textbox, key: str) -> None:
        """``button`` sends ``prompt`` and ``negative`` to the prompt target ``key`` and opens its tab."""
        self.prompt_sources.append(PromptSource(button, prompt, negative, key))

    def wire(self, main_tabs: gr.Tabs, translator: Translator) -> None:
        self.main_tabs = main_tabs
        self._wire_prompts(main_tabs, translator)
        choices = [(t.label, t.key) for t in self.targets.values()]
        tab_outputs: list[gr.Tabs] = [main_tabs]
        for target in self.targets.values():
            for tabs, _ in target.tab_path[1:]:
                if tabs not in tab_outputs:
                    tab_outputs.append(tabs)
        components = [t.component for t in self.targets.values()]
        components += list({id(t.sent): t.sent for t in self.targets.values() if t.sent is not None}.values())
        for source in self.sources:
            source.picker.choices = choices
            if choices:
                source.picker.value = choices[0][1]
            source.button.click(
                self._sender(tab_outputs, translator), [source.value, source.picker], components + tab_outputs,
                api_visibility="private",
            )

    def _sender(self, tab_outputs: list[gr.Tabs], translator: Translator):
        targets = list(self.targets.values())

        def send(path: str | None, key: str, request: gr.Request = None):
            say = translator.for_request(request)
            if not path:
                raise gr.Error(say("send.nothing"), print_exception=False)
            if key not in self.targets:
                raise gr.Error(say("send.pick"), print_exception=False)
            values = [path if t.key == key else gr.update() for t in targets]
            states = {id(t.sent): t.sent for t in targets if t.sent is not None}
            values += [path if self.targets[key].sent is state else gr.update() for state in states.values()]
            tabs = {id(main): gr.update() for main in tab_outputs}
            for tabs_component, tab_id in self.targets[key].tab_path:
                tabs[id(tabs_component or self.main_tabs)] = gr.Tabs(selected=tab_id)
            return values + [tabs[id(t)] for t in tab_outputs]

        return send

    def _wire_prompts(self, main_tabs: gr.Tabs, translator: Translator) -> None:
        for source in self.prompt_sources:
            target = self.prompt_targets[source.key]  # a KeyError here is a typo in a tab's wiring
            source.button.click(self._prompt_sender(target, translator), [source.prompt, source.negative],
                                [target.prompt, target.negative, main_tabs], api_visibility="private")

    @staticmethod
    def _prompt_sender(target: PromptTarget, translator: Translator):
        def send(prompt: str | None, negative: str | None, request: gr.Request = None):
            if not (prompt or "").strip():
                raise gr.Error(translator.for_request(request)("send.no_prompt"), print_exception=False)
            # An empty negative leaves the target's own (the user's) as it is.
            return prompt, negative if (negative or "").strip() else gr.skip(), gr.Tabs(selected=target.tab_id)

        return send
