"""Home-page pieces: today's questionnaires and the score charts (used by diary/home.html)."""

from django import template

from prt.web.questionnaires import battery, presentation

register = template.Library()


@register.inclusion_tag("questionnaires/_tasks.html")
def questionnaire_tasks(participant):
    return {"tasks": presentation.task_rows(battery.tasks(participant))}


@register.inclusion_tag("questionnaires/_charts.html")
def score_charts(participant):
    return {"cards": presentation.score_cards(participant)}
