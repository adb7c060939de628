"""A deployment check: a configured attribution model that fails to load is an error before anyone
submits (``prt serve`` migrates, and Django runs its checks first), named by the file and the fault."""

from __future__ import annotations

from django.core import checks


@checks.register(checks.Tags.compatibility)
def attribution_model_loads(app_configs=None, **kwargs):
    from prt.web.attributions.services import check_model

    error = check_model()
    if not error:
        return []
    return [checks.Error(f"PRT_ATTRIBUTION_MODEL: {error}",
                         hint="train one with `prt attribution train`, or unset it to use the lemma coder",
                         id="attributions.E001")]
