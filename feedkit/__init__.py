"""feedkit: turn a folder of film reviews into RSS, Atom and JSON feeds and an email digest.

The public entry points are the use cases in `feedkit.pipeline`; `feedkit.cli` is a thin shell over
them.
"""

__version__ = "0.1.0"
