"""Presentation mode and the offline HTML story (issue 15, item 1): one hop a slide, each picture self-describing."""

from __future__ import annotations

import re

import pytest

import core
from core import metrics
from core.scenario import Scenario
from dashboard import controls, graph_frames, scenarios, story
from dashboard.state import simulate


@pytest.fixture(scope="module")
def terra():
    net = core.datasets.load("crypto-2022-05")
    sc = scenarios.presets()["terra_may_2022"]
    return net, sc, simulate(net, sc)


def test_one_sentence_per_hop_of_the_contagion_path(terra):
    net, sc, res = terra
    who = "3AC"
    path = metrics.contagion_path(res, who)
    steps = story.hops(net, res, who)
    assert len(steps) == len(path) >= 2
    assert steps[["source", "target", "channel"]].to_numpy().tolist() == path[["source", "target", "channel"]].astype(str).to_numpy().tolist()
    times = graph_frames.round_times(res.n_rounds, sc.round_hours)
    names = dict(zip(net.entities["id"], net.entities["name"]))
    for row in steps.itertuples(index=False):
        assert row.time == times[row.round]
        assert f"in round {row.round} (t = {times[row.round]})" in row.sentence
        assert names.get(row.target, row.target) in row.sentence
    assert steps["sentence"].iloc[0].startswith("The shock hits ")


def test_the_story_is_offline_and_every_picture_says_what_it_is(terra):
    net, sc, res = terra
    text = story.story_html(net, sc, res, "3AC")
    n_hops = len(story.hops(net, res, "3AC"))
    slides = re.findall(r'<section class="slide".*?</section>', text, flags=re.S)
    assert len(slides) == n_hops + 1  # one a hop, then the whole narrative
    last = res.n_rounds - 1
    for s in slides:
        # scenario (its name as the page shows it, "Terra May 2022", since session 37), round and time on every slide
        assert f"{controls.scenario_title(sc)} · round " in s and f" of {last} (t = " in s
        assert s.count("<svg") == 1 and "<title>" in s  # its own picture, titled
        assert 'class="legend"' in s and "defaulted" in s and "contagion path" in s
    assert metrics.narrative(res, "3AC", net) in text.replace("&gt;", ">").replace("&#x27;", "'")
    # self-contained: nothing fetched from anywhere
    assert not re.search(r'(src|href)="(https?:)?//', text) and "<link" not in text


def test_without_an_entity_the_story_is_about_the_worst_hit(terra):
    net, sc, res = terra
    worst = res.nodes.sort_values("loss_usd", ascending=False)["entity"].iloc[0]
    assert story.story_entity(res, None) == worst and story.story_entity(res, "NOT_THERE") == worst
    assert story.story_entity(res, "3AC") == "3AC"
    calm = simulate(net, Scenario(name="calm"))
    assert calm.nodes["loss_usd"].max() < story.MATERIAL_USD  # cents of rounding
    assert story.story_entity(calm, None) is None
    assert "no contagion path" in story.story_html(net, sc, calm)
