"""The edit tools of the image stack: Upscale, Vary, Inpaint, Outpaint and Enhance.

One module per job, none of them Gradio:

- ``images``: reading the user's picture and mask, with the size limits and the sentences.
- ``tiling``: a tile grid with overlap and complementary blending ramps (bounded memory).
- ``upscaler``: super-resolution models read by spandrel, as shared-cache entries.
- ``upscale``: tiled super-resolution, and the Fooocus modes (Fast 2×, 1.5×, 2× with refine).
- ``vary``: Vary (Subtle / Strong), img2img on the Image tab's own function.
- ``masks``: grow, feather, bounding boxes, the "only masked area" crop.
- ``repaint``: one masked part redrawn at the model's resolution and pasted back (Inpaint, Enhance).
- ``inpaint`` / ``outpaint``: repaint a brushed region (Fooocus's three modes), extend a picture.
- ``regions`` / ``segment``: what Enhance repaints, found by the face detector or named in words
  (Grounding DINO boxes, SAM masks); ``enhance``: each region repainted with its own prompt.
- ``results``: saving an edit with its parameters, like any other image.

Everything diffusion-based goes through ``studio.image.generate.generate_images`` with the
Image tab's checkpoint, so the same cache entry (one UNet) serves every tool.
"""
