from mlnb.display import (
    CELL_STYLE,
    TABLE_STYLE,
    html_table,
    human_bytes,
    human_duration,
    text_table,
)


def test_human_bytes():
    assert human_bytes(0) == "0 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(-3 * 1024**3) == "-3.0 GiB"
    assert human_bytes(None) == "—"


def test_human_duration():
    assert human_duration(0.0000123) == "12 µs"
    assert human_duration(0.0123) == "12.3 ms"
    assert human_duration(75) == "1m 15s"
    assert human_duration(7300) == "2h 01m"


def test_html_table_escapes_user_strings():
    html = html_table(["<b>h</b>"], [["<img src=x onerror=alert(1)>"]], caption="<i>c</i>")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;h&lt;/b&gt;" in html and "&lt;i&gt;c&lt;/i&gt;" in html


def test_text_table_aligns_columns():
    table = text_table(["a", "bbb"], [[1, 2.5], [10, float("nan")]])
    lines = table.splitlines()
    assert lines[0] == "a   bbb"
    assert lines[3] == "10  nan"


def test_html_tables_are_compact_and_left_aligned():
    html = html_table(["setting", "value"], [["seed", 42], ["numpy", "pinned"]], caption="seed")
    assert html.startswith(f'<table class="mlnb-table" style="{TABLE_STYLE}">')
    assert "width:auto" in TABLE_STYLE and "margin:0 " in TABLE_STYLE  # not centred or stretched
    assert html.count(f'<td style="{CELL_STYLE}">') == 4 and "text-align:left" in CELL_STYLE
    assert '<caption style="caption-side:top;text-align:left' in html
