"""The `--person` option every command shares, and how the administrator names a person.

The command line acts as the machine's administrator, over every account: `--person` takes an id, a
NAME, or ACCOUNT/NAME (the account's user name). Names are unique only within an account, so a bare
NAME that several accounts use is refused (exit status 2, listing each match's ACCOUNT/NAME and id)
rather than silently picking one; `People.get` does the look-up.
"""

from __future__ import annotations

import argparse

PERSON_HELP = "id, NAME, or ACCOUNT/NAME when several accounts have a person called NAME"


def add_person_option(parser: argparse.ArgumentParser, *, required: bool = False, absent: str = "") -> None:
    """Add `--person`; `absent` says what happens without it (for optional ones)."""
    text = PERSON_HELP + (f" ({absent})" if absent else "")
    parser.add_argument("--person", required=required, metavar="PERSON", help=text)
