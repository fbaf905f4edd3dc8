"""Audio in, speaker-attributed transcript out. Knows nothing of the database or the app.

Import submodules directly (``transcribe.pipeline``, ``transcribe.types``); this package
imports no ML library on its own so that ``transcribe.types`` stays cheap for ``storage``.
"""
