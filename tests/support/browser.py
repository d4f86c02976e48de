"""Browser-test helpers that wait for what a user would see, without polling on the clock."""
from __future__ import annotations


def wait_image_decoded(img, min_width: int = 0) -> None:
    """Wait until the image behind locator `img` is loaded and decoded wider than `min_width` pixels.

    The predicate is a function, not an expression string: Playwright eval()s a string predicate
    on every poll, which the pages' Content-Security-Policy (script-src 'self') forbids.
    """
    img.scroll_into_view_if_needed()
    img.page.wait_for_function("([i, w]) => i.complete && i.naturalWidth > w",
                               arg=[img.element_handle(), min_width])
