"""`cxlake erase`: a data subject's erasure request (PIPL art. 47) carried out across the home;
`cxlake retention`: the retention purge run by hand (as the nightly job runs it).

`erase` is a thin wrapper over :func:`cxlake.privacy.erasure.erase`: it names the person by one detail, waits
for the warehouse's writer like any run, prints what was (or with ``--dry-run`` would be) changed
per place, and leaves only the erasure record in the audit log (who asked, when, the counts and a
salted hash of the detail, never the detail itself).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from cxlake.cli.common import HomeOption, fail, iso_day, say_waiting
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


@app.command("retention")
def retention(
    home: HomeOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge ages as of this day (default: today, Asia/Shanghai).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be purged and change nothing.")
    ] = False,
) -> None:
    """Purge the personal data cxlake/config/retention.yaml no longer allows, as the nightly
    retention job does: emptied in raw, quarantine and the marts, the file rewritten, the serving
    copy published. Prints what was (or would be) purged, per field and table."""
    from cxlake.pipeline.resources import Warehouse
    from cxlake.pipeline.retention import apply_retention
    from cxlake.privacy.retention import RetentionError
    from cxlake.warehouse_lock import warehouse_writer

    day = date.fromisoformat(iso_day(as_of)) if as_of else None
    paths = cxlake_paths(home)
    if not paths.warehouse.is_file():
        fail(f"no warehouse at {paths.warehouse}: run the pipeline first")
    warehouse = Warehouse(path=str(paths.warehouse), serving_path=str(paths.serving))
    try:
        with warehouse_writer(paths.warehouse, "retention", on_wait=say_waiting):
            records = apply_retention(warehouse, day, dry_run=dry_run, compact_file=True)
            if not dry_run:
                warehouse.publish()
    except RetentionError as error:
        fail(str(error))
    verb = "would purge" if dry_run else "purged"
    for record in records:
        if record.rows:
            what = f"{record.relation}.{record.column}" if record.column else f"{record.relation} rows"
            typer.echo(f"{verb} {record.rows:>8} {record.field:<26} {what} (before {record.cutoff})")
    typer.echo(f"{verb} {sum(r.rows for r in records)} rows in all")
