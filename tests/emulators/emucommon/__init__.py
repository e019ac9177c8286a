"""Code shared by the emulators under tests/emulators/ (see http_front.py).

Each emulator's entry script and test file puts tests/emulators/ on sys.path next to its
own directory, so `from emucommon import http_front` works both when the entry script is
started by path and under `python3 -m unittest discover -s tests/emulators/<name>`.
"""
