"""A site adapts the curriculum in its own file: changes by id, additions, removals, its own
Markdown; the result is validated whole and errors name the site file and the key."""

from __future__ import annotations

import textwrap

import pytest

from prt.errors import InputError
from prt.program.curriculum import default_curriculum, is_site_file, load_curriculum

LONDON = """\
site: london
version: 2
title: PRT at the London site
sessions:
  - {number: 3, title: "Tracking, step by step"}
  - number: 4
    steps: [tracking_seated, tracking_exposure, walking_plan]
steps:
  - {id: walking_plan, component: somatic_tracking, title: A walking plan,
     summary: "Plan short walks that build up, tracking sensations on the way."}
components:
  - {id: education, text: london_education.md}
exposure:
  hold_off_at: 9
control_arms:
  - arm: usual_care
    items:
      - {id: physio_leaflet, title: A leaflet on staying active, release_after: post,
         summary: Given after posttreatment.}
"""


def _site(tmp_path, text, name="london.yaml", **files):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    for file_name, content in files.items():
        (tmp_path / file_name.replace("__", ".")).write_text(content, encoding="utf-8")
    return path


def test_site_changes_are_applied_by_id_and_the_rest_is_kept(tmp_path):
    path = _site(tmp_path, LONDON, london_education__md="# Pain, explained in London\n")
    c = load_curriculum(site=None, path=path)  # a site file as the path changes the packaged curriculum
    base = default_curriculum()
    assert (c.name, c.version, c.site) == ("prt+london", "1+london:2", "london")
    assert c.title == "PRT at the London site"
    assert c.session(3).title == "Tracking, step by step"
    assert c.session(3).steps == base.session(3).steps  # only the keys given change
    assert c.session(4).steps == ("tracking_seated", "tracking_exposure", "walking_plan")
    assert c.step("walking_plan").component == "somatic_tracking"
    assert c.component("somatic_tracking").steps[-1] == "walking_plan"
    assert c.component("education").text == "# Pain, explained in London\n"
    assert c.component("education").text_file == "site:london_education.md"
    assert c.component("evidence").text == base.component("evidence").text
    assert (c.exposure.hold_off_at, c.exposure.attempts, c.exposure.fear_floor) == (9, 2, 2)
    items = [i.id for i in c.control_arm("usual_care").items]
    assert items == ["continue_usual_care", "workbook", "self_help_website", "physio_leaflet"]
    assert [i.id for i in c.control_arm("usual_care").available(["post"])][-1] == "physio_leaflet"
    assert base.title != c.title  # the packaged curriculum is untouched


def test_a_site_file_over_a_whole_curriculum_and_the_same_result_through_with_site(tmp_path):
    site = _site(tmp_path, "site: leeds\nexposure: {attempts: 3}\n")
    whole = tmp_path / "whole.yaml"
    import yaml

    whole.write_text(yaml.safe_dump(default_curriculum().to_dict()), encoding="utf-8")
    for ref, text in default_curriculum().texts().items():
        (tmp_path / ref).write_text(text, encoding="utf-8")
    c = load_curriculum(whole, site=site)
    assert c.exposure.attempts == 3 and c.site == "leeds"
    assert default_curriculum().with_site({"site": "leeds", "exposure": {"attempts": 3}}) == c
    with pytest.raises(InputError, match="a site file must declare 'site: <name>'"):
        load_curriculum(site=whole)
    with pytest.raises(InputError, match="is a site file; give it as the site"):
        load_curriculum(site, site=site)


def test_removing_a_step_still_planned_is_an_error_naming_the_site_file(tmp_path):
    path = _site(tmp_path, "site: york\nsteps:\n  - {id: gratitude, remove: true}\n")
    with pytest.raises(InputError, match=rf"^site curriculum {path}: key 'sessions\[6\]\.as_needed': "
                                         r"unknown step 'gratitude'$"):
        load_curriculum(path)
    fixed = _site(tmp_path, """\
        site: york
        steps:
          - {id: gratitude, remove: true}
        sessions:
          - {number: 6, as_needed: [self_compassion, savouring, stress_and_trauma]}
          - {number: 8, as_needed: []}
        """)
    c = load_curriculum(fixed)
    assert "gratitude" not in {s.id for s in c.steps}
    assert c.session(8).as_needed == ()


def test_adding_an_evidence_kind_needs_the_bands_to_cover_it():
    add = {"site": "oslo", "evidence": {"items": [{"id": "dreams", "title": "Pain in dreams",
                                                   "prompt": "Does the pain show up in dreams?"}]}}
    with pytest.raises(InputError, match="key 'evidence.strength.bands': bands must end at 6"):
        default_curriculum().with_site(add, "site oslo.yaml")
    add["evidence"]["strength"] = {"bands": [{"min": 0, "max": 2, "label": "few"}, {"min": 3, "max": 6,
                                                                                   "label": "many"}]}
    c = default_curriculum().with_site(add, "site oslo.yaml")
    assert len(c.evidence.items) == 6 and c.evidence.strength(6) == "many"
    assert c.evidence.source == default_curriculum().evidence.source  # the keys not given are kept


SITE_ERRORS = {
    "no site name": ({"exposure": {"attempts": 3}}, "key 'site': is required"),
    "a site name with a space": ({"site": "new york"}, "key 'site': expected a short code"),
    "a key sites cannot change": ({"site": "x", "name": "mine"}, "key 'name': unknown key"),
    "an entry without its id": ({"site": "x", "steps": [{"title": "t"}]},
                                "key 'steps[0]': expected a mapping with the id of the entry"),
    "an entry given twice": ({"site": "x", "sessions": [{"number": 2, "title": "a"}, {"number": 2, "title": "b"}]},
                             "key 'sessions[1]': number '2' is given more than once"),
    "removing what is not there": ({"site": "x", "steps": [{"id": "yoga", "remove": True}]},
                                   "removes id 'yoga', which the curriculum does not have"),
    "remove with other keys": ({"site": "x", "steps": [{"id": "setbacks", "remove": True, "title": "t"}]},
                               "an entry that is removed takes no other keys"),
    "remove quoted": ({"site": "x", "steps": [{"id": "setbacks", "remove": "true"}]},
                      "key 'steps[0].remove': expected true or false"),
    "a list for a section": ({"site": "x", "exposure": [1]}, "key 'exposure': expected a mapping"),
    "a mapping for a list": ({"site": "x", "steps": {"id": "x"}}, "key 'steps': expected a list of entries"),
    "a new step missing keys": ({"site": "x", "steps": [{"id": "newstep", "title": "t"}]},
                                "key 'steps[newstep].component': is required"),
    "an unknown key in a change": ({"site": "x", "exposure": {"patience": 3}},
                                   "key 'exposure.patience': unknown key"),
    "a bad value": ({"site": "x", "session_minutes": 5}, "key 'session_minutes': expected a whole number 10-240"),
    "a site text that was not supplied": ({"site": "x", "steps": [{"id": "setbacks", "text": "flare.md"}]},
                                          "key 'steps[setbacks].text': text file 'flare.md' was not found"),
}


@pytest.mark.parametrize("site, expected", SITE_ERRORS.values(), ids=list(SITE_ERRORS))
def test_bad_site_changes_name_the_site_file_and_key(site, expected):
    with pytest.raises(InputError) as exc:
        default_curriculum().with_site(site, "site curriculum x.yaml")
    assert str(exc.value).startswith("site curriculum x.yaml: ")
    assert expected in str(exc.value)


def test_site_text_files_are_read_beside_the_site_file_only(tmp_path):
    path = _site(tmp_path, "site: x\nsteps:\n  - {id: setbacks, text: flare.md}\n")
    with pytest.raises(InputError, match=rf"site curriculum {path}: key 'steps\[0\]\.text': text file 'flare.md' "
                                         "was not found beside the file"):
        load_curriculum(path)
    (tmp_path / "flare.md").write_text("# Flares\n", encoding="utf-8")
    assert load_curriculum(path).step("setbacks").text == "# Flares\n"
    sneaky = _site(tmp_path, "site: x\nsteps:\n  - {id: setbacks, text: ../flare.md}\n", name="sneaky.yaml")
    with pytest.raises(InputError, match="expected a Markdown file name beside the curriculum file"):
        load_curriculum(sneaky)
    # A site's education.md never replaces the packaged one it does not name.
    (tmp_path / "education.md").write_text("# Not used\n", encoding="utf-8")
    assert load_curriculum(path).component("education").text == default_curriculum().component("education").text


def test_is_site_file():
    assert is_site_file({"site": "x"})
    assert not is_site_file({"site": "x", "name": "prt+x"})  # a whole curriculum written out by to_dict
    assert not is_site_file(["site"])
