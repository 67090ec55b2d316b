"""The pull asset of an API source (cxlake.sources.paged_api): one per source, same behaviour.

The cursor lives in Dagster, in the metadata of the asset's last materialization, so it survives
a rebuilt warehouse (rebuilt from landing/, where the pulled pages stay) and shows in the UI. The
landing sensor then loads the days a pull wrote, through the source's ingestion asset.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from cxlake.pipeline.resources import LandingZone
from cxlake.sources.paged_api import (
    ApiConfigError,
    ApiSettings,
    ApiSource,
    PullResult,
    cursors_after,
    pull_all,
)

CURSOR_METADATA = "cursors"


def kept_cursors(context: AssetExecutionContext, key: AssetKey) -> dict[str, dict]:
    """The cursors the asset's last materialization recorded ({} before the first pull)."""
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return {}
    value = event.asset_materialization.metadata.get(CURSOR_METADATA)
    return dict(value.value) if value is not None else {}


def pull_summary(results: list[PullResult]) -> dict:
    return {
        r.id: {
            "records": r.records,
            "pages": r.pages,
            "retries": r.retries,
            "waited_seconds": round(r.waited_seconds, 1),
            "files": len(r.files),
        }
        for r in results
    }


def build_api_pull_asset(source: ApiSource, key: AssetKey, group_name: str) -> AssetsDefinition:
    """An unpartitioned asset pulling ``source`` from its kept cursors into the landing folder."""

    @asset(
        key=key,
        group_name=group_name,
        kinds={"python"},
        description=(
            f"Pulls {source.items_key} changed since the cursor from the {source.label} API into "
            f"landing/{source.name}/<day>/ (settings: {source.env_prefix}_URL, _TOKEN, _IDS)."
        ),
    )
    def pull_asset(context: AssetExecutionContext, landing: LandingZone):
        """Pull, record the cursors even when an id stopped early, and only then fail on an error:
        the pages that landed must not be pulled again. A spent quota is a warning, not a failure."""
        try:
            settings = ApiSettings.from_env(source)
        except ApiConfigError as error:
            raise Failure(description=str(error)) from None
        before = kept_cursors(context, key)
        results = pull_all(source, settings, before, landing.path)
        for result in results:
            landed = f"{result.records} {source.items_key} in {len(result.files)} files"
            context.log.info(f"{source.label} {result.id}: {landed}")
            if result.quota_spent:
                context.log.warning(result.quota_spent)
        yield MaterializeResult(
            metadata={
                CURSOR_METADATA: MetadataValue.json(cursors_after(before, results)),
                "pulled": MetadataValue.json(pull_summary(results)),
                source.items_key: sum(r.records for r in results),
                "stopped": "; ".join(filter(None, (r.quota_spent or r.error for r in results))) or "-",
            }
        )
        errors = [r.error for r in results if r.error]
        if errors:
            raise Failure(description="\n".join(errors))

    return pull_asset
