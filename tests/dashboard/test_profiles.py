"""Agent profiles in the dashboard: the API's rules and messages, shown next to the fields."""

from __future__ import annotations

from tests.dashboard.conftest import MemberFactory

DIMENSIONS = [("Problem solving", "50"), ("Communication", "30"), ("System design", "20")]


def profile_form(dimensions: list[tuple[str, str]] = DIMENSIONS, **fields: str) -> list[tuple[str, str]]:
    items = [("name", "Backend screen"), ("persona", "I'm Alex, a staff engineer."), ("useCase", "hiring")]
    for i, (name, weight) in enumerate(dimensions):
        items += [(f"evaluationDimensions.{i}.name", name), (f"evaluationDimensions.{i}.weight", weight)]
    items += list(fields.items())
    return items


async def test_create_a_profile_and_see_it(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.client.get(owner.url("agent-profiles"))
    assert r.status_code == 200 and "No agent profiles yet" in r.text
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form())
    assert r.status_code == 303, r.text
    page = await owner.client.get(r.headers["location"])
    assert "Backend screen" in page.text and "System design" in page.text and "created" in page.text


async def test_weights_not_summing_to_100_are_refused_with_the_api_message(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form([("A", "50"), ("B", "30")]))
    assert r.status_code == 400
    assert "Dimension weights must sum to 100; they sum to 80" in r.text
    # The form keeps what was typed.
    assert 'value="50"' in r.text and 'value="B"' in r.text
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form([("A", "100")], name=""))
    assert r.status_code == 400
    assert 'id="f-name-error">Required<' in r.text


async def test_live_weight_sum(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.client.get(
        owner.url("agent-profiles", "weight-sum"),
        params={"evaluationDimensions.0.weight": "50", "evaluationDimensions.1.weight": "30"},
    )
    assert "<strong>80</strong>" in r.text and "must be 100" in r.text and "disabled" in r.text


async def test_rule_based_scoring_rules_in_rows(member: MemberFactory) -> None:
    owner = await member("owner")
    rule = "scoring.recommendationLogic.rules.0."
    form = profile_form(**{"scoring.scoringMethod": "rule_based"})
    r = await owner.post(owner.url("agent-profiles", "new"), form)
    assert r.status_code == 400 and "Required when scoringMethod is rule_based" in r.text
    bad = form + [
        (rule + "when.dimension", "Charisma"),
        (rule + "when.op", ">="),
        (rule + "when.value", "7"),
        (rule + "recommendation", "hire"),
        ("scoring.recommendationLogic.default", "no_hire"),
    ]
    r = await owner.post(owner.url("agent-profiles", "new"), bad)
    assert r.status_code == 400
    assert 'id="f-scoring-recommendationLogic-rules-0-when-dimension-error">Unknown dimension' in r.text
    good = [(k, "Communication" if v == "Charisma" else v) for k, v in bad]
    r = await owner.post(owner.url("agent-profiles", "new"), good)
    assert r.status_code == 303, r.text
    page = await owner.client.get(r.headers["location"])
    assert "When <strong>Communication</strong> &gt;= 7: <strong>hire</strong>" in page.text
    assert "Otherwise: <strong>no_hire</strong>" in page.text
    # An unused blank rule row (the "Add rule" button's) doesn't stop a save.
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form() + [(rule + "when.op", "")])
    assert r.status_code == 303, r.text


async def test_the_editor_without_script(member: MemberFactory) -> None:
    owner = await member("owner")
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form() + [("_action", "add_dimension")])
    assert r.status_code == 200 and 'name="evaluationDimensions.3.name"' in r.text
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form() + [("_remove_dimension", "0")])
    assert (
        'value="Problem solving"' not in r.text
        and 'name="evaluationDimensions.0.name" type="text" value="Communication"' in r.text
    )
    r = await owner.post(owner.url("agent-profiles", "new"), profile_form() + [("_action", "add_rule")])
    assert 'name="scoring.recommendationLogic.rules.0.when.dimension"' in r.text
    # With htmx the new row comes from the server, numbered after the rows on the page.
    r = await owner.client.get(
        owner.url("agent-profiles", "rule-row"),
        params={"scoring.recommendationLogic.rules.0.when.value": "1"},
    )
    assert 'name="scoring.recommendationLogic.rules.1.when.dimension"' in r.text


async def test_editing_keeps_a_dimensions_id(member: MemberFactory) -> None:
    # A dimension's id (e.g. the vendor rubric's "code_quality") survives an edit in the editor,
    # even a rename; without it the id would be derived again from the new name.
    owner = await member("owner")
    form = profile_form() + [("evaluationDimensions.0.id", "problem_solving_v2")]
    r = await owner.post(owner.url("agent-profiles", "new"), form)
    assert r.status_code == 303, r.text
    edit = r.headers["location"] + "/edit"
    hidden = 'name="evaluationDimensions.0.id" value="problem_solving_v2"'
    assert hidden in (await owner.client.get(edit)).text
    renamed = [(k, "Problem decomposition" if k == "evaluationDimensions.0.name" else v) for k, v in form]
    r = await owner.post(edit, renamed)
    assert r.status_code == 303, r.text
    page = (await owner.client.get(edit)).text
    assert hidden in page and 'value="Problem decomposition"' in page
