"""Building blocks of the unified model: audio features, text and audio encoders, heads.

Import the submodules directly (``producer.modules.features``, ``.text_encoder``,
``.audio_encoder``, ``.heads``); this package imports nothing itself, so that reading features
does not pay for torch or transformers.
"""
