"""``python -m nuanliu …`` is the ``nuanliu`` command (what the systemd units run)."""

from nuanliu.cli import main

if __name__ == "__main__":
    main()
