"""The scenario schema: defaults, files, overrides and the messages for bad input."""

from __future__ import annotations

import pytest

import govsim
from govsim.scenario import ScenarioError, bundled_scenarios, field_names

CONTRACT_FIELDS = (
    "run.months", "consumers.count", "consumers.population", "businesses.count",
    "market.n_agencies", "budget.annual_yuan", "budget.cost_per_batch_yuan",
    "law.business_fine_yuan", "law.agency_fine_multiple", "law.enforcement_probability",
    "performance.backcheck_rate", "performance.quality_weight", "performance.blacklist",
    "participation.complaint_probability", "participation.reward_yuan",
    "participation.disclosure", "procurement.payer", "system.stability",
)


def test_contract_parameter_names_exist():
    names = set(field_names())
    assert not [n for n in CONTRACT_FIELDS if n not in names]


def test_defaults_are_the_bundled_baseline(baseline):
    assert govsim.Scenario().diff(baseline) == {}


def test_every_bundled_scenario_validates():
    bundled = bundled_scenarios()
    assert {"baseline", "stronger_law", "more_budget", "performance_management",
            "agency_market", "public_participation", "collaborative"} <= set(bundled)
    for name, path in bundled.items():
        scenario = govsim.Scenario.load(path)
        assert scenario.name == name
        assert scenario.description


def test_overrides_change_only_what_they_name(baseline):
    changed = baseline.with_overrides({"law.enforcement_probability": 0.9,
                                       "consumers.count": 100_000})
    assert changed.diff(baseline) == {"law.enforcement_probability": (0.5, 0.9),
                                      "consumers.count": (20_000, 100_000)}
    assert baseline.law.enforcement_probability == 0.5  # the original is untouched


def test_integers_are_accepted_for_real_valued_fields():
    assert govsim.Scenario().with_overrides({"budget.annual_yuan": 800_000}).budget.annual_yuan \
        == 800_000.0


def test_scenario_round_trips_through_toml(tmp_path):
    original = govsim.Scenario().with_overrides({
        "participation.network": "random",
        "timeline": [{"month": 24, "set": {"budget.annual_yuan": 200_000.0}, "note": "cut",
                      "name": "cut", "length": 12}]})
    path = tmp_path / "s.toml"
    path.write_text(original.to_toml())
    assert govsim.Scenario.load(path).diff(original) == {}
    assert govsim.Scenario.load(path).timeline == original.timeline


@pytest.mark.parametrize("override, expected", [
    ({"law.enforcement_probability": 1.5},
     ["law.enforcement_probability = 1.5", "<= 1.0"]),
    ({"law.enforcment_probability": 0.9},
     ["law.enforcment_probability is not a known field", "enforcement_probability"]),
    ({"consumers.count": "many"}, ["consumers.count = 'many'", "int"]),
    ({"participation.network": "grid"}, ["'grid'", "'small_world'"]),
    ({"procurement.payer": "nobody"}, ["procurement.payer", "'government'", "'business'"]),
    ({"nosuch.field": 1}, ["nosuch.field is not a known field"]),
    ({"businesses.sector_mix.catering": 0.9}, ["sector_mix must sum to 1"]),
    ({"consumers.count": 300_000}, ["must not exceed consumers.population"]),
])
def test_bad_values_name_field_value_and_what_is_allowed(override, expected):
    with pytest.raises(ScenarioError) as err:
        govsim.Scenario().with_overrides(override)
    for text in expected:
        assert text in str(err.value)


def test_bad_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[law]\nenforcement_probability = 2\n")
    with pytest.raises(ScenarioError, match=r"bad.toml: law.enforcement_probability = 2"):
        govsim.Scenario.load(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[law\n")
    with pytest.raises(ScenarioError, match=r"broken.toml: not valid TOML"):
        govsim.Scenario.load(broken)
    with pytest.raises(ScenarioError, match="no such scenario file"):
        govsim.Scenario.load(tmp_path / "missing.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[lawz]\nx = 1\n")
    with pytest.raises(ScenarioError, match=r"unknown.toml: lawz is not a known field"):
        govsim.Scenario.load(unknown)


def test_a_long_value_is_shortened_in_the_message(tmp_path):
    entry = '[[timeline]]\nmonth = 2\nset = { "law.enforcement_probability" = 0.9 }\n'
    many = tmp_path / "many.toml"
    many.write_text("[run]\nmonths = 12\n" + entry * 1001)
    with pytest.raises(ScenarioError) as err:
        govsim.Scenario.load(many)
    message = str(err.value)
    assert "timeline = a list of 1001 items is not allowed" in message
    assert "at most 1000 items" in message and len(message) < 400  # was 60,000
    word = tmp_path / "word.toml"
    word.write_text(f'[law]\nenforcement_probability = "{"x" * 5000}"\n')
    with pytest.raises(ScenarioError) as err:
        govsim.Scenario.load(word)
    assert f"law.enforcement_probability = '{'x' * 78}… is not allowed" in str(err.value)
    assert len(str(err.value)) < 400


def test_shorten_keeps_short_values_and_sizes_long_tables():
    from govsim.scenario import shorten

    assert shorten(0.5) == "0.5" and shorten("random") == "'random'"
    assert shorten({f"k{i}": i for i in range(100)}) == "a table of 100 entries"
    assert len(shorten("y" * 1000)) == 80


@pytest.mark.parametrize("body, expected", [
    ('"budget.annual_yuan" = 800000.0\n',
     '"budget.annual_yuan" = 800000.0: budget.annual_yuan is a known field, but quoted it is '
     "one key of the top level whose name holds a dot; write it under its table ([budget] "
     "annual_yuan = 800000.0) or as an unquoted dotted key (budget.annual_yuan = 800000.0)"),
    ('[businesses]\n"sector_mix.catering" = 0.45\n',
     "([businesses.sector_mix] catering = 0.45) or as an unquoted dotted key "
     "(sector_mix.catering = 0.45)"),
    ('"law.agency_liability" = true\n', "([law] agency_liability = true)"),
])
def test_a_known_field_as_a_quoted_dotted_key_says_how_to_write_it(tmp_path, body, expected):
    path = tmp_path / "quoted.toml"
    path.write_text(body)
    with pytest.raises(ScenarioError) as err:
        govsim.Scenario.load(path)
    assert expected in str(err.value) and "not a known field" not in str(err.value)
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


@pytest.mark.parametrize("body, expected", [
    ("[businesses.sector_mix]\ncatering = 0.5\n",
     "businesses.sector_mix = {'catering': 0.5} is not allowed: it lacks retail, producer; "
     "allowed: a table of catering, retail, producer: fraction of businesses per sector"),
    ('[[timeline]]\nset = { "law.enforcement_probability" = 0.9 }\n',
     "timeline[0] = {'set': {'law.enforcement_probability': 0.9}} is not allowed: it lacks "
     "month; allowed: a table of month, set (and optionally note, name, length)"),
])
def test_a_table_missing_fields_says_which_in_one_line(tmp_path, body, expected):
    path = tmp_path / "partial.toml"
    path.write_text(body)
    with pytest.raises(ScenarioError) as err:
        govsim.Scenario.load(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {expected}") and "\n" not in message
    assert "Field required" not in message


def test_a_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[law]\nenforcement_probability = 0.9\n")
    assert govsim.Scenario.load(path).law.enforcement_probability == 0.9
