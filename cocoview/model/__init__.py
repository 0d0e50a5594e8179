"""The Qt-free model layer: loading, indexing, decoding, validation, rendering.

Nothing under this package may import Qt (PySide6, shiboken6, superqt), directly
or through another module; ``tests/test_no_qt.py`` enforces it.
"""
