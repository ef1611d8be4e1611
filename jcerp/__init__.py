"""The ``jcerp`` command: one console script with ``server``, ``edge`` and ``demo`` subcommands."""
