"""`python -m sendmako`, the same as the `sendmako` command."""

from sendmako.cli import main

raise SystemExit(main())
