"""The live CONSORT pages: the flow of one of the coordinator's sites or of all of them, its
diagram (an SVG of its own URL, shown as an image) and its counts (JSON download).

Only coordinators (issue 13: "Coordinator (own site only): ... the live CONSORT diagram"): other
roles 403, another site 404. Counts are computed at request time (consort/services.py); records
that contradict each other answer 409 with prt.trial's message naming the record.
"""

from __future__ import annotations

import json

from csp.decorators import csp_replace
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from prt.errors import InputError
from prt.vocabulary import ARM_LABELS, ARM_NAMES, ARMS
from prt.web.accounts.models import Site
from prt.web.consort import services
from prt.web.enrolment import access


def _sites(request, site_code: str | None) -> list[Site]:
    if site_code is not None:
        return [access.site_for(request.user, site_code)]
    return list(Site.objects.filter(pk__in=access.require_coordinator(request.user)).order_by("code"))


def _stem(sites: list[Site], site_code: str | None) -> str:
    return f"consort-{site_code}" if site_code else "consort-all-sites"


def _refused(error: InputError) -> HttpResponse:
    return HttpResponse(f"The records do not add up: {error}\n", status=409, content_type="text/plain; charset=utf-8")


@login_required
@require_http_methods(["GET", "HEAD"])
def flow(request, site_code: str | None = None):
    sites = _sites(request, site_code)
    all_sites = list(Site.objects.filter(pk__in=access.require_coordinator(request.user)).order_by("code"))
    context = {"sites": sites, "site_code": site_code, "all_sites": all_sites, "definitions": services.definitions(),
               "arms": [(ARM_LABELS[a], ARM_NAMES[a]) for a in ARMS]}
    try:
        live = services.build(sites)
    except InputError as exc:
        return render(request, "consort/flow.html", {**context, "error": str(exc)}, status=409)
    counts = live.counts
    labels = {**live.reason_labels}
    context.update({
        "live": live, "counts": counts, "text": live.text(),
        "reasons": [(labels.get(code, code.replace("_", " ").capitalize()), n)
                    for code, n in counts.ineligible_reasons.items()],
        "other": list(counts.other.items()), "other_total": sum(counts.other.values()),
        "arm_rows": _arm_rows(counts),
        "follow_up": [{"label": row["label"], "cells": [row["arms"][a] for a in ARMS]} for row in live.follow_up],
        "withdrawals": [{"label": row["label"], "total": row["total"], "cells": [row["arms"][a] for a in ARMS],
                         "by_arm": row["stage"] in ("randomized", "completed")} for row in live.withdrawals],
    })
    return render(request, "consort/flow.html", context)


def _arm_rows(counts) -> list[dict]:
    """The per-arm boxes as table rows: a count per arm, with the reasons under it."""
    arms = counts.arms

    def reasons(attr):
        keys = list(dict.fromkeys(k for a in arms for k in getattr(a, attr)))
        return [{"label": k, "cells": [getattr(a, attr).get(k, 0) for a in arms], "sub": True} for k in keys]

    return [
        {"label": "Allocated", "cells": [a.allocated for a in arms], "head": True},
        {"label": "Received allocated intervention", "cells": [a.received for a in arms]},
        {"label": "Did not receive allocated intervention", "cells": [a.n_not_received for a in arms]},
        *reasons("not_received"),
        {"label": "Lost to follow-up", "cells": [a.n_lost for a in arms], "head": True},
        *reasons("lost"),
        {"label": "Discontinued intervention", "cells": [a.n_discontinued for a in arms], "head": True},
        *reasons("discontinued"),
        {"label": "Analysed", "cells": [a.analysed for a in arms], "head": True},
        {"label": "Excluded from analysis", "cells": [a.n_not_analysed for a in arms]},
        *reasons("not_analysed"),
    ]


#: The diagram is an image document: matplotlib's SVG styles its shapes with style attributes, so
#: this one response allows inline style (and nothing else: no script, no fetch, no frame).
SVG_POLICY = {"default-src": ["'none'"], "style-src": ["'unsafe-inline'"], "script-src": ["'none'"],
              "img-src": ["'none'"], "font-src": ["'none'"], "connect-src": ["'none'"]}


@login_required
@require_http_methods(["GET", "HEAD"])
@csp_replace(SVG_POLICY)
def diagram(request, site_code: str | None = None):
    sites = _sites(request, site_code)
    try:
        svg = services.build(sites).svg()
    except InputError as exc:
        return _refused(exc)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="{_stem(sites, site_code)}.svg"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "HEAD"])
def counts(request, site_code: str | None = None):
    sites = _sites(request, site_code)
    try:
        data = services.build(sites).to_dict()
    except InputError as exc:
        return _refused(exc)
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_stem(sites, site_code)}.json"'
    response["Cache-Control"] = "private, no-store"
    return response
