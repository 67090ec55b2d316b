"""The survey-platform API source: responses pulled by last-modified time into landing/survey_api/.

Settings, from the environment only: ``CXLAKE_SURVEY_API_URL`` (base URL),
``CXLAKE_SURVEY_API_TOKEN`` (sent as ``Authorization: Bearer``) and ``CXLAKE_SURVEY_API_IDS`` (the
survey ids to pull, comma-separated). Each landed file holds one page:
``{"source", "id", "pulled_at", "page", "request", "responses": [...]}``, a response being
``{"id", "modified_at", "recorded_at", "started_at", "duration_seconds", "status", "ip_address",
"metadata": {...}, "answers": [{"question_id", "question_text", "answer"}]}`` as the API sent it.
"""

from __future__ import annotations

from cxlake.sources.paged_api import ApiSource

SURVEY_API = ApiSource(
    name="survey_api",
    env_prefix="CXLAKE_SURVEY_API",
    items_path="/surveys/{id}/responses",
    id_field="id",
    modified_field="modified_at",
    items_key="responses",
    what="survey ids",
)
