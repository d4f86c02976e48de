"""Generated signature and seal images for the development PKI and demos (not real seals)."""
from __future__ import annotations

import hashlib
import io
import math
from functools import lru_cache

from .base import DEFAULT_SEAL_DIAMETER_MM, FONT_FILES, FONTS_DIR, SEAL_RED, SIGNATURE_BLUE
from .fonts import _nfc


def _single_ink(img, colour: tuple[int, int, int]):
    """Keep the alpha (the strokes) and make every pixel ``colour``: one ink, as on paper."""
    from PIL import Image

    out = Image.new("RGBA", img.size, colour + (255,))
    out.putalpha(img.getchannel("A"))
    return out


@lru_cache(maxsize=64)
def dev_signature_png(full_name: str) -> bytes:
    """A blue, handwritten-looking signature for ``full_name`` as a transparent PNG (600×240 px).

    For development and demos only; deterministic for a given name.
    """
    from PIL import Image, ImageDraw, ImageFont

    scale = 3
    W, H = 600 * scale, 240 * scale
    seed = hashlib.sha256(full_name.encode("utf-8")).digest()
    img = Image.new("RGBA", (W, H), SIGNATURE_BLUE + (0,))
    draw = ImageDraw.Draw(img)
    words = _nfc(full_name).split() or ["?"]
    given = words[-1]
    initials = "".join(w[0] for w in words[:-1])
    font = ImageFont.truetype(str(FONTS_DIR / FONT_FILES["italic"]), 120 * scale)
    small = ImageFont.truetype(str(FONTS_DIR / FONT_FILES["italic"]), 70 * scale)
    colour = SIGNATURE_BLUE + (255,)
    # initials small and high, the given name large
    x0 = 70 * scale
    if initials:
        draw.text((x0, 20 * scale), initials, font=small, fill=colour)
        x0 += int(draw.textlength(initials, font=small)) + 8 * scale
    draw.text((x0, 45 * scale), given, font=font, fill=colour)
    end_x = x0 + int(draw.textlength(given, font=font))
    # a flourish: a loop under the name and a long stroke back to the left
    amp = (10 + seed[0] % 12) * scale
    pts = []
    steps = 160
    start_x, stop_x = 40 * scale, min(W - 30 * scale, end_x + 60 * scale)
    for i in range(steps + 1):
        t = i / steps
        x = start_x + (stop_x - start_x) * t
        y = 195 * scale - 30 * scale * t + amp * math.sin(t * math.pi * (2 + seed[1] % 2))
        pts.append((x, y))
    draw.line(pts, fill=colour, width=5 * scale, joint="curve")
    cx, cy, r = stop_x - 25 * scale, 150 * scale, 28 * scale
    loop = [
        (cx + r * math.cos(a / 40 * 2 * math.pi) * 0.8, cy + r * math.sin(a / 40 * 2 * math.pi))
        for a in range(41)
    ]
    draw.line(loop, fill=colour, width=4 * scale, joint="curve")
    # slant like handwriting, then downsample for smooth edges
    img = img.transform(img.size, Image.Transform.AFFINE, (1, 0.25, -0.25 * H / 2, 0, 1, 0), Image.Resampling.BICUBIC)
    img = img.resize((W // scale, H // scale), Image.Resampling.LANCZOS)
    img = _single_ink(img, SIGNATURE_BLUE)
    out = io.BytesIO()
    img.save(out, "PNG", dpi=(300, 300), optimize=True)
    return out.getvalue()


@lru_cache(maxsize=64)
def dev_seal_png(agency_name: str, parent: str | None = None) -> bytes:
    """A red round seal, 38 mm at 300 dpi, as a transparent PNG: the (parent and) agency name on
    the ring, a five-pointed star in the centre. For development and demos only."""
    from PIL import Image, ImageDraw, ImageFont

    dpi = 300
    scale = 2
    size_px = round(DEFAULT_SEAL_DIAMETER_MM / 25.4 * dpi)
    S = size_px * scale
    c = S / 2
    colour = SEAL_RED + (255,)
    img = Image.new("RGBA", (S, S), SEAL_RED + (0,))
    draw = ImageDraw.Draw(img)
    R = c - 2 * scale
    ring_w = 0.032 * S
    draw.ellipse((c - R, c - R, c + R, c + R), outline=colour, width=round(ring_w))
    r_in = R * 0.66
    draw.ellipse((c - r_in, c - r_in, c + r_in, c + r_in), outline=colour, width=round(0.012 * S))
    # star
    r_star, r_star_in = r_in * 0.55, r_in * 0.55 * 0.382
    star = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        rr = r_star if k % 2 == 0 else r_star_in
        star.append((c + rr * math.cos(a), c + rr * math.sin(a)))
    draw.polygon(star, fill=colour)
    # ring text, clockwise from about 7 to 5 o'clock, a star at 6 o'clock (as on real seals)
    name = " ".join(_nfc(agency_name).split()).upper() or "?"
    text = f"{' '.join(_nfc(parent).split()).upper()} ★ {name}" if parent and parent.strip() else name
    band_mid = (R - ring_w + r_in) / 2
    band = R - ring_w - r_in
    span = math.radians(296)
    font_path = str(FONTS_DIR / FONT_FILES["bold"])
    fsize = int(band * 0.6)
    while True:
        font = ImageFont.truetype(font_path, fsize)
        total = sum(font.getlength(ch) for ch in text) * 1.1
        if total <= span * band_mid or fsize <= 8:
            break
        fsize -= 1
    spacing = span * band_mid / total

    def star_at(a_mid: float, rs: float) -> None:
        pts = []
        for k in range(10):
            a = a_mid + math.pi / 2 + k * math.pi / 5 - math.pi / 2 * 2
            rr = rs if k % 2 == 0 else rs * 0.382
            pts.append((c + band_mid * math.cos(a_mid) + rr * math.cos(a),
                        c + band_mid * math.sin(a_mid) + rr * math.sin(a)))
        draw.polygon(pts, fill=colour)

    angle = math.pi / 2 + (2 * math.pi - span) / 2  # screen angles: y grows downwards
    for ch in text:
        adv = font.getlength(ch) * 1.1 * spacing
        a_mid = angle + (adv / 2) / band_mid
        if ch == "★":
            star_at(a_mid, fsize * 0.42)
        elif ch.strip():
            tile = Image.new("RGBA", (int(fsize * 2), int(fsize * 2)), SEAL_RED + (0,))
            td = ImageDraw.Draw(tile)
            td.text((fsize, fsize * 1.33), ch, font=font, fill=colour, anchor="ms")
            rot = tile.rotate(-math.degrees(a_mid + math.pi / 2), resample=Image.Resampling.BICUBIC)
            px = c + band_mid * math.cos(a_mid) - rot.width / 2
            py = c + band_mid * math.sin(a_mid) - rot.height / 2
            img.alpha_composite(rot, (int(px), int(py)))
        angle += adv / band_mid
    star_at(math.pi / 2, fsize * 0.42)
    img = img.resize((size_px, size_px), Image.Resampling.LANCZOS)
    img = _single_ink(img, SEAL_RED)
    out = io.BytesIO()
    img.save(out, "PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()
