"""`cxlake erase`: a data subject's erasure request (PIPL art. 47) carried out across the home.

Thin wrapper over :func:`cxlake.privacy.erasure.erase`: it names the person by one detail, waits
for the warehouse's writer like any run, prints what was (or with ``--dry-run`` would be) changed
per place, and leaves only the erasure record in the audit log (who asked, when, the counts and a
salted hash of the detail, never the detail itself).
"""

from __future__ import annotations

from typing import Annotated

import typer

from cxlake.cli.common import HomeOption, fail, say_waiting
from cxlake.paths import cxlake_paths
from cxlake.privacy.erasure import erase
from cxlake.privacy.identity import IdentityError
from cxlake.privacy.lookup import Request

app = typer.Typer()


@app.command("erase")
def erase_person(
    by: Annotated[str, typer.Option("--by", help="Who carries out the request (recorded and audited).")],
    customer_id: Annotated[
        str | None, typer.Option("--customer", "--customer-id", help="The person's CRM id.")
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="A phone number, written any way.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="An e-mail address.")] = None,
    home: HomeOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would change and change nothing.")
    ] = False,
) -> None:
    """Erase one person (named by exactly one of --customer, --phone, --email) from the warehouse,
    the serving copy, the app state, landing files, the outbox and exports; their purchases stay,
    under a pseudonym, so the store's figures do not change."""
    if not by.strip():
        fail("--by must name who carries out the request")
    try:
        request = Request(customer_id=customer_id, phone=phone, email=email)
        report = erase(request, cxlake_paths(home), actor=by.strip(), dry_run=dry_run, on_wait=say_waiting)
    except IdentityError as error:
        fail(str(error))
    for line in report.lines():
        typer.echo(line)
    if not report.customers and not report.total:
        typer.echo("no record names this person", err=True)
