"""SPEC §3.5 stage selection, rule by rule, on the pure function."""

from __future__ import annotations

from types import SimpleNamespace

from viva.sessions.service import select_stage


def stage(type_: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(type=type_, stage_name=name)


def test_type_match_wins_over_everything():
    a, b = stage("screen", "Phone"), stage("technical", "screen")
    assert select_stage([b, a], "screen") is a


def test_stage_name_match_is_case_insensitive():
    a, b = stage("x", "Technical Screen"), stage("y", "Final")
    assert select_stage([a, b], "final") is b
    assert select_stage([a, b], "TECHNICAL SCREEN") is a


def test_word_match_finds_the_quickstart_stage():
    a, b = stage("technical", "Technical Screen"), stage("final", "Final Round")
    assert select_stage([a, b], "screen") is a
    assert select_stage([a, b], "round") is b
    # a word, not a substring: "tech" is not a word of "technical"
    assert select_stage([a, b], "tech") is None


def test_the_only_active_stage_is_chosen_when_nothing_matches():
    only = stage("onsite", "Onsite")
    assert select_stage([only], "anything") is only
    assert select_stage([only, stage("b", "B")], "anything") is None
    assert select_stage([], "screen") is None
