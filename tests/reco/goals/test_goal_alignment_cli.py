"""The offline evaluation of goals runs on a small simulated population and reports both figures;
the lean raises goal-alignment@10 and the simulator's goals are seeded."""

from __future__ import annotations

import json

from reco_svc.offline.goal_alignment import main
from simulator import Simulation
from simulator.goals import hidden_goals


def test_the_command_prints_ndcg_and_goal_alignment_with_and_without_the_lean(capsys):
    assert main(["--users", "400", "--days", "21", "--seed", "3"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    off, on = result["results"]["off"], result["results"]["lift=default,cap=default"]
    assert result["children_evaluated"] > 30
    assert on["goal_alignment@10"] > off["goal_alignment@10"]
    assert 0 < on["ndcg@10"] <= 1 and 0 < off["ndcg@10"] <= 1
    assert result["ndcg_change"] == round(on["ndcg@10"] / off["ndcg@10"] - 1, 4)


def test_hidden_goals_are_seeded_age_appropriate_and_do_not_change_other_draws():
    a, b = Simulation(60, 3, seed=5), Simulation(60, 3, seed=5)
    assert a.goals == b.goals and any(a.goals.values())
    lessons = {m.id: m for m in a.catalog.moral_lessons}
    for user in a.population:
        assert a.goals[user.index] == hidden_goals(5, user, a.catalog)
        assert all(lessons[g].suits(user.age_group) for g in a.goals[user.index])
