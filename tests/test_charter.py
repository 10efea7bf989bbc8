from helpers.core.params import Charter
from helpers.setup.charter import charter_record, charter_tables


def test_charter_tables_carry_every_field():
    c = Charter.model_validate({
        "objective": "Focus", "stakeholders": [{"name": "A", "role": "VP Sales"}],
        "scope": {"max_hypotheses": 12, "time_per_stage_days": {"data_collection": 10}},
        "milestones": [{"name": "Sign-off", "due": "2026-11-20"}]})
    t = charter_tables(c)
    assert t["stakeholders"].to_dict("records") == [{"name": "A", "role": "VP Sales", "goal": ""}]
    scope = dict(zip(t["scope"]["item"], t["scope"]["value"], strict=True))
    assert scope["Maximum hypotheses to test"] == "12"
    assert scope["Time for data collection (days)"] == "10"
    assert len(t["deliverables"]) == 3
    assert charter_record(c)["milestones"][0]["due"] == "2026-11-20"
