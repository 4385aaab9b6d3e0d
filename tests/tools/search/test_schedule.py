import pytest

from magnet.tools.search.schedule import BudgetError, Rung, plan_schedule


def test_a_roomy_budget_gets_successive_halving_within_the_experiment_cap():
    s = plan_schedule(budget_s=1800, unit_s=20, max_experiments=8, scaleup=0.4)
    assert s.rungs == [Rung(configs=5, units=1), Rung(configs=2, units=3)]
    assert s.experiments == 8 and s.scaleup == 0.4
    assert s.estimated_s() == pytest.approx((5 + 6) * 20 + 720)
    assert s.describe().startswith("rung 0: 5 configs × 1 unit · rung 1: 2 configs × 3 units")
    many = plan_schedule(budget_s=3600 * 4, unit_s=20, max_experiments=40, scaleup=0.4)
    assert [r.units for r in many.rungs] == [1, 3, 9]
    assert [r.configs for r in many.rungs] == [27, 9, 3]  # each rung keeps the best third


def test_compute_not_the_cap_limits_a_tight_budget():
    s = plan_schedule(budget_s=300, unit_s=30, max_experiments=20, scaleup=0.4)
    # 180 s of search buys 6 units: two rungs would need 4 + 2 × 3 = 10.
    assert s.rungs == [Rung(configs=6, units=1)]
    assert plan_schedule(300, 30, 20, scaleup=0).rungs == [
        Rung(configs=4, units=1),
        Rung(configs=2, units=3),
    ]


def test_one_experiment_has_no_room_for_a_scale_up_and_says_so():
    s = plan_schedule(budget_s=600, unit_s=10, max_experiments=1, scaleup=0.4)
    assert s.scaleup == 0 and s.rungs == [Rung(configs=1, units=1)]
    assert "no room for a scale-up" in s.describe()


def test_a_budget_below_one_run_names_the_smallest_that_works():
    with pytest.raises(BudgetError) as e:
        plan_schedule(budget_s=60, unit_s=100, max_experiments=8, scaleup=0.4)
    assert "--budget-minutes 2.8" in str(e.value)  # 100 s / 0.6, in minutes, rounded up
    plan_schedule(budget_s=2.8 * 60, unit_s=100, max_experiments=8, scaleup=0.4)  # that works


def test_rung_zero_is_rewritten_one_way_and_the_rest_of_the_plan_stays():
    plan = plan_schedule(budget_s=1800, unit_s=40, max_experiments=8, scaleup=0.4)
    closed = plan.with_first_rung(2)
    assert closed.rungs[0].configs == 2 and closed.rungs[0].units == plan.rungs[0].units
    assert closed.rungs[1:] == plan.rungs[1:] and closed.scaleup == plan.scaleup
    assert plan.rungs[0].configs != 2  # a copy: the plan it came from is unchanged
