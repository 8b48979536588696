"""The ``govsim`` command (and ``python -m govsim``).

It only loads :mod:`govsim.cli` and runs it, so that Ctrl-C (or ``kill``) while the command
line and its libraries are still loading ends as quietly as it does while a command runs:
one line, status 130, no traceback.
"""

import sys


def main() -> int:
    """Run the command line; Ctrl-C at any point, loading included, gives status 130."""
    try:
        from govsim.cli import main as cli_main

        return cli_main()
    except KeyboardInterrupt:
        print("govsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
