"""The shared core: errors, atomic files, small parsers, the config loader, logging and ``prepare()``.

Both sides build on it; it imports only the standard library, numpy and OpenCV (lazily), never a model runtime.
"""
