"""Streamlit review app; talks only to ``storage.services``."""
