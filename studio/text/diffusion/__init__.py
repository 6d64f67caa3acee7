"""Text by masked diffusion (the LLaDA / MDLM recipe): an answer starts as a row of [MASK]s and
a bidirectional masked LM unmasks a few positions per step, block by block, left to right.

- ``request``: the request, its checks and what a run returns (plain, picklable values);
- ``schedule``: how many positions each step unmasks (pure arithmetic);
- ``selection``: picking tokens and the positions to keep at one step (torch);
- ``sampler``: the step loop over any forward function (model-agnostic, so tests control logits);
- ``stream``: the studio function: shared cache, chat template, streamed step records;
- ``loading``: a masked LM and its tokenizer as one cache entry, remote code refused;
- ``fill_mask`` / ``noising``: the slide's fill-in-the-blank panel and forward noising;
- ``tiny_twins``: random-weight ModernBERT chat and Chinese BERT twins for the tiny profile.
"""
