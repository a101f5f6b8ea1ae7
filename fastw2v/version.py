"""The package's version, in a module of its own so that any module can import it
without importing the package's public API (and so without an import cycle)."""

__version__ = "0.1.0"
# Who wrote a file: the "writer" entry of a native file's metadata.
WRITER = f"fastw2v {__version__}"
