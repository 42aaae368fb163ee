"""The description renderer: Markdown in, only safe HTML out (no database)."""

from storefront.markdown import render_markdown


def test_markdown_renders_lists_emphasis_and_links():
    html = render_markdown("# Title\n\n- one\n- **two**\n\n[docs](https://docs.example.com)")
    assert "<h2>Title</h2>" in html  # the page's h1 is the app's name
    assert "<li><strong>two</strong></li>" in html
    assert 'href="https://docs.example.com"' in html and 'rel="nofollow noopener noreferrer"' in html


def test_script_tags_event_handlers_and_javascript_links_never_come_out():
    html = render_markdown(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(2)">\n\n[click](javascript:alert(3))\n\n'
        '<iframe src="https://evil.example.com"></iframe>'
    )
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<iframe" not in html and "<img" not in html


def test_empty_description_renders_nothing():
    assert render_markdown("") == ""
