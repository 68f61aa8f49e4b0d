"""The ``docqa`` command's subcommands, one module per group of them: each adds its parsers to
the command's (``add_*``) and runs a parsed command (``run_*``); ``docqa.cli.main`` wires them
together. Each imports what a command needs only when that command runs: ``docqa --help`` loads
none of it.
"""
