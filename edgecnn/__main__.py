"""``python -m edgecnn`` runs the command-line interface."""

from edgecnn.cli import main

if __name__ == "__main__":
    main()
