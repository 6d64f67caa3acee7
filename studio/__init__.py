"""The studio engine: models, text, tokens. No Gradio import anywhere in this package."""

from studio import torchvision_ops

torchvision_ops.install()
