"""The desktop app (PySide6). Only this package imports Qt; it asks the model and paints."""
