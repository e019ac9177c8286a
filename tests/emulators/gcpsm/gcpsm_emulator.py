#!/usr/bin/env python3
"""Entry point of the GCP Secret Manager / OAuth2 / metadata-server emulator (see README.md)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # emucommon
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gcpemu.server import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
