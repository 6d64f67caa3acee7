"""The studio engine: models, text, tokens. No Gradio import anywhere in this package."""
