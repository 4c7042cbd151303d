"""Rendering: the SVG a page inlines draws exactly what vl-convert draws, every chart output carries both views, and
an exported page is small, script-free and styled by its own stylesheet only."""

from __future__ import annotations

import re

import altair as alt
import nbformat
import polars as pl
import pytest
import vl_convert as vlc

import rolloutkit as rk
from rolloutkit import render


def _chart(title: str = "Failures stay under the limit") -> alt.LayerChart:
    frame = pl.DataFrame({"day": ["2026-11-01", "2026-11-02", "2026-11-03"], "rate": [0.002, 0.004, 0.003],
                          "upper": [0.006, 0.007, 0.005]})
    points = alt.Chart(frame).mark_point().encode(x="day:T", y="rate:Q", tooltip=["day:T", "rate:Q", "upper:Q"])
    band = alt.Chart(frame).mark_area(opacity=0.3).encode(x="day:T", y="upper:Q")
    return rk.charts.titled(band + points, title)


def _gradient_chart() -> alt.Chart:
    frame = pl.DataFrame({"x": [1, 2, 3], "y": [1, 3, 2], "n": [10, 50, 90]})
    return alt.Chart(frame).mark_circle().encode(x="x:Q", y="y:Q", color="n:Q")


@pytest.mark.parametrize("chart", [_chart(), _gradient_chart()], ids=["layered", "gradient legend"])
def test_inlined_svg_rasterises_exactly_as_vl_convert_draws_it(chart):
    spec = chart.to_dict()
    full, slim = vlc.vegalite_to_svg(spec), render.svg_of(spec)
    assert len(slim) < len(full)
    assert vlc.svg_to_png(slim) == vlc.svg_to_png(full)


def test_data_marks_lose_their_aria_copy_of_the_tooltip_but_the_chart_keeps_its_text():
    svg = render.svg(_chart())
    assert 'role="graphics-symbol"' not in svg and "aria-label=\"day:" not in svg
    assert "Failures stay under the limit" in svg
    assert 'role="graphics-object"' in svg  # groups, axes and titles keep their roles


def test_two_charts_on_one_page_never_share_an_element_id():
    first, second = render.svg(_gradient_chart()), render.svg(_gradient_chart().properties(title="other"))
    ids = [set(re.findall(r'\bid="([^"]+)"', s)) for s in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    for svg, own in zip((first, second), ids, strict=True):
        assert set(re.findall(r"url\(#([^)]+)\)", svg)) <= own


@pytest.mark.parametrize(("interactive", "mimetypes"), [
    (True, {"image/svg+xml", render.VEGALITE_MIME}),
    (False, {"image/svg+xml"}),
], ids=["JupyterLab: SVG and Vega-Lite", "static: SVG only"])
def test_a_chart_output_carries_the_views_setup_picks(interactive, mimetypes):
    render.setup(interactive=interactive)
    bundle = _chart()._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert set(data) == mimetypes
    assert data["image/svg+xml"].startswith("<svg")
    if interactive:
        spec = data[render.VEGALITE_MIME]
        assert spec["layer"][1]["encoding"]["tooltip"][1] == {"field": "rate", "type": "quantitative"}


@pytest.mark.parametrize(("value", "interactive"), [("static", False), (" Static ", False), ("", True),
                                                    ("interactive", True)])
def test_rolloutkit_charts_static_keeps_the_svg_alone(monkeypatch, value, interactive):
    monkeypatch.setenv(render.CHARTS_VAR, value)
    render.setup()
    bundle = _chart()._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert (render.VEGALITE_MIME in data) is interactive


def test_an_exported_page_inlines_its_charts_with_one_small_stylesheet(tmp_path):
    render.setup(interactive=True)
    bundle = _chart()._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Canary\n\nThe failure rate, day by day."),
        nbformat.v4.new_code_cell("import rolloutkit as rk"),
        nbformat.v4.new_code_cell("chart", outputs=[nbformat.v4.new_output("display_data", data=data)]),
    ])
    nbformat.write(nb, tmp_path / "page.ipynb")
    render.export_html(tmp_path / "page.ipynb", tmp_path / "page.html", nav="<a href='index.html'>week</a>")
    page = (tmp_path / "page.html").read_text()
    assert page.count("<svg") == 1 and "data:image/svg+xml" not in page
    assert "<script" not in page and "application/vnd.vegalite" not in page
    styles = re.findall(r"<style[^>]*>(.*?)</style>", page, re.S)
    assert len(styles) == 1 and len(styles[0]) < 4000
    assert "jp-Cell-inputWrapper" in page  # the markdown cell
    assert page.count("jp-CodeCell") == 1  # the import cell, without output, leaves no trace
    assert '<nav class="rk-nav"><a href="index.html">week</a></nav>' in page
    assert len(page) < 12_000
