"""The SVG chart helper is pure: numbers in, markup out (no database)."""

from __future__ import annotations

from datetime import date, timedelta

from upgrades import charts


def test_line_chart_scales_to_a_round_maximum_and_escapes_labels():
    svg = charts.chart_svg(
        labels=["1 Jan", "2 Jan", "3 Jan"], series=[charts.Series("<b>Installs</b>", [0, 3, 7])], title="Per day"
    )
    assert svg.startswith('<svg class="chart" viewBox="0 0 600 220"') and "style=" not in svg
    assert ">10</text>" in svg and ">5</text>" in svg  # 7 rounds up to 10
    assert "&lt;b&gt;Installs&lt;/b&gt;" in svg and "<b>" not in svg
    assert svg.count("<polyline") == 1


def test_stacked_chart_puts_each_series_on_the_one_below():
    svg = charts.chart_svg(
        labels=["a", "b"], series=[charts.Series("1.0", [2, 1]), charts.Series("2.0", [0, 1])], title="x", stacked=True
    )
    assert svg.count("<polygon") == 2 and ">2</text>" in svg  # the top of the stack is 2 on both days


def test_bar_parts_add_up_and_empty_parts_are_left_out():
    svg = charts.bar_svg(parts=[("Applied", 25.0, "#0f0"), ("Failed", 0, "#f00"), ("Waiting", 75.0, "#00f")], label="x")
    assert 'x="0" y="0" width="25"' in svg and 'x="25" y="0" width="75"' in svg and "#f00" not in svg


def test_dated_chart_labels_first_middle_and_last_day_and_gives_the_legend():
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(90)]
    chart = charts.dated_chart(dates=days, series=[charts.Series("Active", [1] * 90)], title="t")
    assert ">01 Jan</text>" in chart["svg"] and ">31 Mar</text>" in chart["svg"]
    assert chart["legend"] == [{"label": "Active", "colour": charts.PALETTE[0]}]
