"""Property tests of the curriculum loader: whatever a curriculum or site file holds, loading ends in
a valid Curriculum or one InputError line naming the file, and what loads survives a round trip."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prt.errors import InputError
from prt.program.curriculum import SITE_CHANGES, Curriculum, default_curriculum, load_curriculum

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = default_curriculum()
SPEC = BASE.to_dict()
TEXTS = BASE.texts()
IDS = sorted({s.id for s in BASE.steps} | {c.id for c in BASE.components} | {a.id for a in BASE.assignments})

names = st.sampled_from(["id", "number", "title", "summary", "steps", "as_needed", "text", "arm", "items", "remove",
                         "min", "max", "label", *IDS]) | st.text(max_size=6)
scalars = (st.none() | st.booleans() | st.integers(-3, 12) | st.integers() | st.floats(allow_nan=True)
           | st.text(max_size=12) | st.sampled_from(["", " ", "\n", "post", "placebo", "prt", "core", "as_needed",
                                                     "education.md", "site:x.md", "../x.md", *IDS]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(names | st.integers(0, 9), inner, max_size=3), max_leaves=10)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _parent(spec, path):
    node = spec
    for key in path[:-1]:
        node = node[key]
    return node


def _mutate(spec, data):
    path = data.draw(st.sampled_from([p for p in _paths(spec) if p]))
    parent, key = _parent(spec, path), path[-1]
    action = data.draw(st.sampled_from(["replace", "delete", "duplicate", "add_key"]))
    if action == "replace":
        parent[key] = data.draw(values)
    elif action == "delete":
        del parent[key]
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    elif isinstance(parent[key], dict):
        parent[key][data.draw(names)] = data.draw(values)


def _check(outcome, source):
    """A Curriculum that round-trips, or one InputError line starting with the source."""
    if isinstance(outcome, InputError):
        message = str(outcome)
        assert message.startswith(source) and "\n" not in message, message
        return
    assert isinstance(outcome, Curriculum)
    assert Curriculum.from_dict(outcome.to_dict(), "again", outcome.texts()) == outcome


def _outcome(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except InputError as exc:
        return exc


@FUZZ
@given(data=st.data())
def test_any_change_to_the_spec_loads_or_is_an_input_error(data):
    spec = copy.deepcopy(SPEC)
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(spec, data)
    _check(_outcome(Curriculum.from_dict, spec, "fuzz.yaml", TEXTS), "fuzz.yaml")


@FUZZ
@given(value=values)
def test_any_value_at_all_loads_or_is_an_input_error(value):
    _check(_outcome(Curriculum.from_dict, value, "fuzz.yaml", TEXTS), "fuzz.yaml")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_file_text_loads_or_is_an_input_error(data):
    text = yaml.safe_dump(SPEC, sort_keys=False)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    text = text[:start] + data.draw(st.text(max_size=20)) + text[end:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        for ref, body in TEXTS.items():
            (Path(folder) / ref).write_text(body, encoding="utf-8")
        outcome = _outcome(load_curriculum, path)
        if isinstance(outcome, InputError):
            assert str(outcome).startswith(("curriculum", "site curriculum")) and str(path) in str(outcome)
            assert "\n" not in str(outcome)
        else:
            _check(outcome, "")


entry = st.fixed_dictionaries({"id": st.sampled_from([*IDS, "newthing"])},
                              optional={"title": values, "summary": values, "remove": st.booleans() | values,
                                        "component": st.sampled_from(["education", "evidence", "nope"]),
                                        "text": values})
session = st.fixed_dictionaries({"number": st.integers(0, 10) | values},
                                optional={"title": values, "steps": st.lists(st.sampled_from(IDS), max_size=4),
                                          "as_needed": st.lists(st.sampled_from(IDS), max_size=3),
                                          "remove": st.booleans()})
site_values = {key: values for key in SITE_CHANGES}
site_values.update(steps=st.lists(entry, max_size=3), components=st.lists(entry, max_size=2),
                   assignments=st.lists(entry, max_size=2), sessions=st.lists(session, max_size=3),
                   exposure=st.dictionaries(st.sampled_from(["attempts", "fear_fraction", "fear_floor",
                                                             "hold_off_at", "x"]), scalars, max_size=3))


@FUZZ
@given(site=st.fixed_dictionaries({"site": st.sampled_from(["london", "x-1", "bad site", ""]) | values},
                                  optional={**site_values, "version": values}))
def test_any_site_file_gives_a_curriculum_or_an_input_error(site):
    outcome = _outcome(BASE.with_site, site, "site curriculum s.yaml", {"x.md": "# x\n"})
    _check(outcome, "site curriculum s.yaml")
    if isinstance(outcome, Curriculum):
        assert outcome.name.startswith("prt+") and outcome.site


@FUZZ
@given(title=st.text(min_size=1, max_size=40).filter(lambda t: t.strip() and t.isprintable()),
       minutes=st.integers(10, 240), attempts=st.integers(1, 10), floor=st.integers(0, 7),
       hold=st.integers(8, 10), fraction=st.floats(0.01, 1))
def test_valid_site_changes_are_applied_exactly(title, minutes, attempts, floor, hold, fraction):
    site = {"site": "s", "session_minutes": minutes, "sessions": [{"number": 5, "title": title}],
            "exposure": {"attempts": attempts, "fear_floor": floor, "hold_off_at": hold, "fear_fraction": fraction}}
    c = BASE.with_site(site, "site s.yaml")
    assert c.session(5).title == title.strip()
    assert {p.minutes for p in c.sessions} == {minutes}
    assert (c.exposure.attempts, c.exposure.fear_floor, c.exposure.hold_off_at) == (attempts, floor, hold)
    assert c.exposure.fear_fraction == fraction
    assert [s.id for s in c.steps] == [s.id for s in BASE.steps]
    _check(c, "")
