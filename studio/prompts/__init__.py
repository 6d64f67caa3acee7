"""Prompt tools: an idea in any language turned into an English image prompt, and an image
turned back into a prompt (Describe). No Gradio here."""
