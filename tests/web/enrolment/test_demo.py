"""``prt web demo``'s coordinator side: people in every state, the key made once, the log verifies."""

from __future__ import annotations


def test_the_demo_people_cover_every_state_and_their_allocations_replay(world, settings, tmp_path):
    from prt.web.enrolment.demo import PEOPLE, create_people
    from prt.web.participants.models import Participant
    from prt.web.randomization import services

    settings.PRT_ALLOCATION_KEY_FILE = str(tmp_path / "data" / "allocation.key")
    coordinator = world.users["coordinator_same_site"]
    create_people(world.site1, coordinator)
    key = (tmp_path / "data" / "allocation.key").read_bytes()
    create_people(world.site1, coordinator)  # again: nothing duplicated, the key kept
    assert (tmp_path / "data" / "allocation.key").read_bytes() == key
    statuses = dict(Participant.objects.filter(study_id__startswith="DEMO-").values_list("study_id", "status"))
    assert set(statuses.values()) == {"screened", "ineligible", "enrolled", "randomized", "withdrawn"}
    assert len(statuses) == len(PEOPLE)
    replay = services.verify()
    assert [a.participant for a in replay.allocations] == ["DEMO-R01", "DEMO-R02", "DEMO-R03", "DEMO-W01"]
