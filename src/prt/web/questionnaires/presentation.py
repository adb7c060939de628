"""What the pages show, built from the definitions and the stored rows (no Django request here)."""

from __future__ import annotations

from django.utils.safestring import mark_safe

from prt import instruments
from prt.web.charts import long_date
from prt.web.questionnaires import battery, chart, services
from prt.web.questionnaires.chart import number


def task_rows(tasks) -> list[dict]:
    return [{"task": t, "window": f"{long_date(t.window_open)} to {long_date(t.window_close)}",
             "close": long_date(t.window_close)} for t in tasks]


def item_view(instrument_id: str, number_: str, answers: dict) -> dict:
    """One item as the form shows it: its text (a site's licensed wording if supplied), options or range."""
    inst = instruments.get(instrument_id)
    item = inst.item(number_)
    text = instruments.item_texts(instrument_id)[item.number]
    current = answers.get(item.number)
    view = {"number": item.number, "text": text[:1].upper() + text[1:], "kind": item.kind,
            "position": inst.item_numbers.index(item.number) + 1, "count": len(inst.items),
            "current": "" if current is None else (number(current) if item.kind != "text" else current)}
    if item.kind == "choice":
        view["options"] = [{"value": number(code), "label": label, "checked": current is not None and code == current}
                           for code, label in sorted(item.options.items())]
    elif item.kind == "numeric":
        view["minimum"], view["maximum"] = number(item.minimum), number(item.maximum)
    return view


def answer_rows(instrument_id: str, answers: dict) -> list[dict]:
    inst = instruments.get(instrument_id)
    texts = instruments.item_texts(instrument_id)
    rows = []
    for item in inst.items:
        value = answers.get(item.number)
        shown = "" if value is None else (item.options[value] if item.kind == "choice" and value in item.options
                                          else (value if item.kind == "text" else number(value)))
        rows.append({"number": item.number, "text": texts[item.number], "answer": shown})
    return rows


def score_cards(participant) -> list[dict]:
    """One chart (and its table) per instrument the participant has scores for, in battery order."""
    by_instrument: dict[str, list] = {}
    for submission in services.history(participant):
        by_instrument.setdefault(submission.instrument, []).append(submission)
    labels = {e.name: e.label or e.name for e in battery.schedule().events}
    cards = []
    for instrument_id in sorted(by_instrument, key=lambda i: (list(battery.SCHEDULE).index(i)
                                                               if i in battery.SCHEDULE else 99, i)):
        inst = instruments.get(instrument_id)
        name = services.headline(instrument_id)
        rng = services.headline_range(instrument_id)
        rows = [{"date": long_date(s.day), "visit": labels.get(s.event, s.event),
                 "score": "" if s.score is None else number(s.score), "band": s.scores.get("band") or ""}
                for s in reversed(by_instrument[instrument_id])]
        scored = [s for s in by_instrument[instrument_id] if s.score is not None]
        score_name = "score" if name in (None, "total") else name.replace("_", " ")
        svg = ""
        if scored and rng is not None:
            points = [chart.Point(s.day, s.score, labels.get(s.event, s.event)) for s in scored]
            svg = mark_safe(chart.score_chart_svg(points, rng[0], rng[1], f"Your {inst.title}: {score_name}",
                                                  f"chart-{instrument_id}"))
        cards.append({"id": instrument_id, "title": inst.title, "score_name": score_name, "svg": svg,
                      "range": "" if rng is None else f"{number(rng[0])}-{number(rng[1])}", "rows": rows})
    return cards
