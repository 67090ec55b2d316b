"""`python -m cxlake.cli`: the same command as the `cxlake` script."""

from cxlake.cli import app

app()
