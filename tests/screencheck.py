#!/usr/bin/env python3
"""Check a QEMU screendump (PPM) against what the framebuffer console must
show: the title bar and given lines of text, drawn with the console's PSF
font.  Pixels are compared exactly: a cell matches when every pixel of the
glyph box has the foreground colour where the font's bitmap has a 1 and the
background colour where it has a 0.

When the kernel log says the memory map was on (memview=on on the command
line: "memview: on, ..." and one "memview: ZONE ..." line per zone), the
map is checked too: its title in the map's first text row, and each zone's
free tint somewhere in the map's pixels (kernel/console/memview.c).

Used by tests/run_all.py; also usable by hand:
  screencheck.py screen.ppm build/font.psf serial.log "text expected on screen"
"""
import gzip
import os
import re
import sys


def read_ppm(path):
    """Return (width, height, bytes RGB) of a binary PPM (P6, maxval 255)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1  # the single whitespace byte after maxval
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError("not a P6 PPM with maxval 255")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos:pos + w * h * 3]


class Font:
    """A PSF1 or PSF2 font with its Unicode table, as kernel/console/fbcon.c reads it:
    byte values 0..255 are taken as Latin-1 code points."""

    def __init__(self, path):
        raw = open(path, "rb").read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        self.map = {}
        if raw[0] == 0x36 and raw[1] == 0x04:
            mode, self.h = raw[2], raw[3]
            self.w, self.n = 8, 512 if mode & 1 else 256
            self.bpg, off, has_table, psf1 = self.h, 4, mode & 2, True
        elif int.from_bytes(raw[:4], "little") == 0x864AB572:
            hdr = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 32, 4)]
            off, flags, self.n, self.bpg, self.h, self.w = hdr[2:8]
            has_table, psf1 = flags & 1, False
        else:
            raise ValueError("not a PSF font")
        self.row_bytes = (self.w + 7) // 8
        self.glyphs = raw[off:off + self.n * self.bpg]
        table = raw[off + self.n * self.bpg:]
        if not has_table:
            self.map = {i: i for i in range(min(256, self.n))}
        elif psf1:
            g, in_seq = 0, False
            for i in range(0, len(table) - 1, 2):
                u = table[i] | table[i + 1] << 8
                if u == 0xFFFF:
                    g, in_seq = g + 1, False
                elif u == 0xFFFE:
                    in_seq = True
                elif not in_seq and u < 256:
                    self.map.setdefault(u, g)
        else:
            g = 0
            for entry in table.split(b"\xff")[:self.n]:
                single = entry.split(b"\xfe")[0]
                for ch in single.decode("utf-8", "replace"):
                    if ord(ch) < 256:
                        self.map.setdefault(ord(ch), g)
                g += 1
        fallback = self.map.get(ord("?"), 0)
        for c in range(256):
            self.map.setdefault(c, fallback)

    def bit(self, ch, x, y):
        g = self.map[ord(ch) if ord(ch) < 256 else ord("?")]
        byte = self.glyphs[g * self.bpg + y * self.row_bytes + x // 8]
        return bool(byte & (0x80 >> (x % 8)))


def rgb(v):
    return bytes(((v >> 16) & 255, (v >> 8) & 255, v & 255))


def cell_matches(img, font, ch, col, row, fg, bg):
    if (col + 1) * font.w > img[0] or (row + 1) * font.h > img[1]:
        return False
    w, _, px = img
    for y in range(font.h):
        for x in range(font.w):
            X, Y = col * font.w + x, row * font.h + y
            i = (Y * w + X) * 3
            want = fg if font.bit(ch, x, y) else bg
            if px[i:i + 3] != want:
                return False
    return True


def text_at(img, font, text, row, fg, bg, col0=0):
    return all(cell_matches(img, font, ch, col0 + col, row, fg, bg)
               for col, ch in enumerate(text))


MEMVIEW_TITLE = "Physical memory, frame by frame"


def colour_in(img, rgb_bytes, x0, y0, w, h):
    """Does a pixel of colour rgb_bytes lie in the rectangle?"""
    width, height, px = img
    for y in range(y0, min(y0 + h, height)):
        row = px[(y * width + x0) * 3:(y * width + min(x0 + w, width)) * 3]
        at = row.find(rgb_bytes)
        while at >= 0:
            if at % 3 == 0:
                return True
            at = row.find(rgb_bytes, at + 1)
    return False


def memview_problems(img, font, log, geo):
    """The memory map, when the log says it was on: [] or the problems."""
    m = re.search(r"memview: on, text in columns 0-(\d+), map at (\d+),(\d+) \((\d+)x(\d+) px\)",
                  log)
    if not m:
        return []
    keep, x, y, w, h = (int(v) for v in m.groups())
    problems = []
    col = x // font.w
    if not text_at(img, font, MEMVIEW_TITLE, y // font.h - 1, geo["fg"], geo["bg"], col):
        problems.append("the memory map's title is not in its first row")
    for zone, tint in re.findall(r"memview: (\S+) frames \S+, cell .*, tint ([0-9a-f]{6})", log):
        if not colour_in(img, rgb(int(tint, 16)), x, y, w, h):
            problems.append("no free frame of zone %s (colour %s) in the map" % (zone, tint))
    if colour_in(img, rgb(0xfe01fe), x, y, w, h):
        problems.append("the colour matcher found a colour that was never drawn")
    return problems


def kernel_title(root="."):
    """KERNEL_TITLE from include/kernel/kernel.h: what the title bar shows."""
    with open(os.path.join(root, "include", "kernel", "kernel.h")) as f:
        return re.search(r'#define KERNEL_TITLE "([^"]*)"', f.read()).group(1)


def geometry_from_log(log):
    m = re.search(r"fbcon: (\d+)x(\d+) cells of (\d+)x(\d+) pixels, colours fg "
                  r"([0-9a-f]{6}) bg ([0-9a-f]{6}), title ([0-9a-f]{6}) on ([0-9a-f]{6})", log)
    if not m:
        return None
    g = [int(m.group(i)) for i in range(1, 5)]
    c = [int(m.group(i), 16) for i in range(5, 9)]
    return {"cols": g[0], "rows": g[1], "gw": g[2], "gh": g[3],
            "fg": rgb(c[0]), "bg": rgb(c[1]), "title_fg": rgb(c[2]), "title_bg": rgb(c[3])}


def check(ppm, font_path, log, title, lines):
    """Return a list of problems (empty when the screen is right)."""
    problems = []
    geo = geometry_from_log(log)
    if not geo:
        return ["the kernel log has no 'fbcon:' geometry line (console not up?)"]
    font = Font(font_path)
    if (font.w, font.h) != (geo["gw"], geo["gh"]):
        problems.append("font is %dx%d, kernel says %dx%d" % (font.w, font.h, geo["gw"], geo["gh"]))
        return problems
    img = read_ppm(ppm)
    if img[0] < geo["cols"] * font.w or img[1] < geo["rows"] * font.h:
        return ["screendump is %dx%d, smaller than the console" % img[:2]]
    if not text_at(img, font, title, 0, geo["title_fg"], geo["title_bg"]):
        problems.append("the title bar does not show %r" % title)
    for line in lines:
        if not any(text_at(img, font, line, r, geo["fg"], geo["bg"])
                   for r in range(1, geo["rows"])):
            problems.append("no text row shows %r" % line)
    problems += memview_problems(img, font, log, geo)
    # A check that cannot fail is no check: text that is not on screen
    # must not be found.
    if any(text_at(img, font, "#NOT-ON-SCREEN#", r, geo["fg"], geo["bg"])
           for r in range(1, geo["rows"])):
        problems.append("the matcher found text that was never printed")
    return problems


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    ppm, font_path, log_path = sys.argv[1:4]
    log = open(log_path, errors="replace").read()
    probs = check(ppm, font_path, log, kernel_title(), sys.argv[4:])
    for p in probs:
        print("screencheck:", p)
    sys.exit(1 if probs else 0)
