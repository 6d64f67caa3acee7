"""Faces: detection with landmarks, alignment, identity embedding, swap, paste-back and
restoration, on ONNX models held by the shared model cache. No Gradio in here."""
