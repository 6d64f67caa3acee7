"""Tokenizer visualisation data: text tokens and image tokens."""
