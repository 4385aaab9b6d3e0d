import pytest

from magnet.tools.search.schedule import (
    ETA,
    MIN_FIRST_RUNG,
    BudgetError,
    Rung,
    Schedule,
    plan_for_unit,
    plan_schedule,
)

MINUTES = [4, 6, 8, 12, 16, 24, 32, 45, 60, 90, 120, 240, 480]


@pytest.mark.parametrize("overhead", [4.0, 10.0, 15.0])  # a fast CPU, this one, a slow LLM turn
@pytest.mark.parametrize("scaleup", [0.0, 0.4])
def test_every_budget_from_4_minutes_to_8_hours_gets_a_plan_that_fills_it(overhead, scaleup):
    plans = [plan_schedule(m * 60, overhead, scaleup) for m in MINUTES]
    for m, s in zip(MINUTES, plans, strict=True):
        assert s.rungs[0].configs >= MIN_FIRST_RUNG  # seeds, the sized idea and 5 more
        assert s.estimated_s() == pytest.approx(m * 60)  # fills it, no more
        for below, above in zip(s.rungs, s.rungs[1:], strict=False):
            assert above.units == ETA * below.units and above.configs == -(-below.configs // ETA)
    # longer budgets: never fewer configs, rungs, or a smaller unit than 4× shorter ones
    for short, long in zip(plans, plans[4:], strict=False):
        assert long.rungs[0].configs >= short.rungs[0].configs
        assert len(long.rungs) >= len(short.rungs) and long.unit_train_s > short.unit_train_s
    assert len(plans[-1].rungs) == 3 and plans[-1].rungs[0].configs > 2 * MIN_FIRST_RUNG


def test_a_budget_too_small_for_the_first_rung_names_the_smallest_that_works():
    with pytest.raises(BudgetError) as e:
        plan_schedule(budget_s=60, overhead_s=10, scaleup=0.4)
    assert "--budget-minutes 2.5" in str(e.value)  # 8 runs × 11 s / 0.6, rounded up
    plan_schedule(budget_s=2.5 * 60, overhead_s=10, scaleup=0.4)  # that works


def test_a_fixed_unit_gets_the_rungs_that_fit_and_a_cap_is_kept():
    s = plan_for_unit(budget_s=1800, overhead_s=10, unit_train_s=30, scaleup=0.4)
    assert [r.configs for r in s.rungs] == [9, 3, 1]  # as many rungs as fit
    kept = plan_for_unit(1800, 10, 30, 0.4, rungs=2)  # a re-plan keeps the shape it had
    assert [r.configs for r in kept.rungs] == [14, 5] and kept.estimated_s() <= 1800
    capped = plan_for_unit(1800, 10, 30, 0.4, max_experiments=8)
    assert [r.configs for r in capped.rungs] == [5, 2] and capped.experiments == 8
    long = plan_for_unit(1800, 10, 500, 0.4)  # the user's --steps: one run of 510 s fits
    assert long.rungs == [Rung(configs=2, units=1)]
    with pytest.raises(BudgetError, match="--budget-minutes 14.2"):
        plan_for_unit(600, 10, 500, 0.4)


def test_one_experiment_has_no_room_for_a_scale_up_and_says_so():
    s = plan_for_unit(budget_s=600, overhead_s=5, unit_train_s=10, max_experiments=1)
    assert s.scaleup == 0 and s.rungs == [Rung(configs=1, units=1)]
    assert "no room for a scale-up" in s.describe()


def test_rung_zero_is_rewritten_one_way_and_the_rest_of_the_plan_stays():
    plan = plan_schedule(budget_s=1800, overhead_s=10, scaleup=0.4)
    closed = plan.with_first_rung(2)
    assert closed.rungs[0].configs == 2 and closed.rungs[0].units == plan.rungs[0].units
    assert closed.rungs[1:] == plan.rungs[1:] and closed.scaleup == plan.scaleup
    assert plan.rungs[0].configs != 2  # a copy: the plan it came from is unchanged


def test_a_schedule_saved_before_the_budget_chose_the_unit_still_reads():
    old = {"rungs": [{"configs": 5, "units": 1}], "scaleup": 0.4, "budget_s": 600, "unit_s": 27}
    s = Schedule.model_validate(old)
    assert (s.unit_train_s, s.overhead_s, s.unit_s) == (27, 0.0, 27)
    assert s.describe().startswith("rung 0: 5 configs × 1 unit · scale-up: the winner")
