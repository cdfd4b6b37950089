"""Speech-to-text and text-to-speech behind small interfaces (docs/speech.md).

Infrastructure only: imports no domain package. `speech_from_settings` picks the engines.
"""
