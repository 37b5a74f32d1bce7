#!/bin/sh
# report_screenshot.sh DIR [OUT.png] - render DIR/index.html in headless Chromium,
# save a full-page screenshot (default DIR/screenshot.png) and fail when:
#   - the browser logs a console message, a failed load or any network request;
#   - the page does not have the chart count its footer states (data-charts),
#     or some <svg> is empty (no child elements, or no element of class "data");
#   - the DOM holds a script, an external stylesheet, image or font.
# Needs Debian's chromium (installed with apt-get when missing and run as root)
# and python3.  Offline: the page is loaded from file:// with networking off.
set -u
DIR=${1:?usage: report_screenshot.sh DIR [OUT.png]}
OUT=${2:-$DIR/screenshot.png}
PAGE=$(cd "$DIR" && pwd)/index.html
[ -f "$PAGE" ] || { echo "report_screenshot: no $PAGE" >&2; exit 2; }

BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "report_screenshot: installing chromium" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
        BROWSER=$(command -v chromium || true)
    fi
    [ -n "$BROWSER" ] || { echo "report_screenshot: chromium not found (apt-get install chromium)" >&2; exit 2; }
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FLAGS="--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
 --disable-background-networking --disable-component-update --disable-sync
 --disable-extensions --disable-default-apps --hide-scrollbars
 --proxy-server=127.0.0.1:9 --proxy-bypass-list=<-loopback>
 --enable-logging=stderr --v=0"

# 1. the DOM as the browser built it (also catches console errors on load)
# shellcheck disable=SC2086
timeout 120 "$BROWSER" $FLAGS --user-data-dir="$WORK/p1" --dump-dom "file://$PAGE" \
    >"$WORK/dom.html" 2>"$WORK/dom.log"
rc=$?
[ $rc -eq 0 ] || { echo "report_screenshot: chromium --dump-dom failed ($rc)" >&2; tail -20 "$WORK/dom.log" >&2; exit 1; }

# 2. the screenshot: the page's height is measured from the DOM dump's figures
HEIGHT=$(python3 - "$WORK/dom.html" <<'EOF'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
h = sum(float(x) for x in re.findall(r'<svg class="chart"[^>]*\sheight="([0-9.]+)"', html))
rows = len(re.findall(r"<tr[ >]", html))
items = len(re.findall(r"<li[ >]", html))
print(int(1.25 * (1000 + h + 90 * html.count("<figure") + 26 * rows + 80 * items)))
EOF
)
[ -n "$HEIGHT" ] || HEIGHT=6000
# shellcheck disable=SC2086
timeout 120 "$BROWSER" $FLAGS --user-data-dir="$WORK/p2" --screenshot="$OUT" \
    --window-size=1400,"$HEIGHT" "file://$PAGE" >"$WORK/shot.log" 2>&1
rc=$?
[ $rc -eq 0 ] && [ -s "$OUT" ] || { echo "report_screenshot: screenshot failed ($rc)" >&2; tail -20 "$WORK/shot.log" >&2; exit 1; }

# the window was sized generously: trim the empty background under the page
# (with PIL where some python3 has it; otherwise the margin stays)
cat >"$WORK/trim.py" <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = im.load()
bg = px[w // 2, h - 1]
y = h - 1
while y > 0 and all(px[x, y] == bg for x in range(0, w, 7)):
    y -= 1
im.crop((0, 0, w, min(h, y + 40))).save(sys.argv[1])
EOF
for py in python3 /usr/bin/python3; do
    "$py" "$WORK/trim.py" "$OUT" 2>/dev/null && break
done

# 3. the checks
fail=0
# console messages from the page (Chromium logs them as "CONSOLE"), failed loads, requests
if grep -E 'CONSOLE|Failed to load|net::ERR|Refused to|Uncaught' "$WORK/dom.log" "$WORK/shot.log" >"$WORK/errors"; then
    echo "report_screenshot: the browser reported errors:" >&2
    cat "$WORK/errors" >&2
    fail=1
fi
python3 - "$WORK/dom.html" <<'EOF' || fail=1
import sys
from html.parser import HTMLParser

class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs = []          # [children, data elements] per <svg>
        self.depth = []         # indices of open svgs
        self.charts_claimed = None
        self.bad = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth:
            s = self.svgs[self.depth[-1]]
            s[0] += 1
            if "data" in (a.get("class") or "").split():
                s[1] += 1
        if tag == "svg":
            self.svgs.append([0, 0])
            self.depth.append(len(self.svgs) - 1)
        if tag == "footer" and "data-charts" in a:
            self.charts_claimed = int(a["data-charts"])
        if tag == "script":
            self.bad.append("a <script> element")
        if tag == "link":
            self.bad.append("a <link> element: %r" % a)
        if tag in ("img", "image", "iframe", "object", "embed", "video", "audio", "use"):
            href = a.get("src") or a.get("href") or a.get("xlink:href") or ""
            if not href.startswith("data:") and not href.startswith("#"):
                self.bad.append("<%s> pointing at %r" % (tag, href))
        for k, v in a.items():
            if k != "xmlns" and v and ("http://" in v or "https://" in v or v.startswith("//")):
                self.bad.append("attribute %s=%r fetches" % (k, v))
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self.depth.pop()
    def handle_endtag(self, tag):
        if tag == "svg" and self.depth:
            self.depth.pop()

html = open(sys.argv[1], encoding="utf-8").read()
p = P()
p.feed(html)
ok = True
n = len(p.svgs)
if "@import" in html or "url(http" in html or "@font-face" in html:
    p.bad.append("CSS that fetches (@import, url(http...), @font-face)")
for b in p.bad:
    print("report_screenshot:", b, file=sys.stderr); ok = False
if p.charts_claimed is None:
    print("report_screenshot: no footer data-charts count", file=sys.stderr); ok = False
elif p.charts_claimed != n:
    print("report_screenshot: %d charts expected, %d <svg> in the page" % (p.charts_claimed, n), file=sys.stderr); ok = False
if n == 0:
    print("report_screenshot: no chart at all", file=sys.stderr); ok = False
for i, (children, data) in enumerate(p.svgs):
    if children == 0 or data == 0:
        print("report_screenshot: chart %d is empty (%d elements, %d data)" % (i + 1, children, data), file=sys.stderr); ok = False
print("report_screenshot: %d charts, each with data" % n if ok else "report_screenshot: DOM checks failed", file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
if [ $fail -ne 0 ]; then echo "report_screenshot: FAILED ($OUT)" >&2; exit 1; fi
echo "report_screenshot: ok, $OUT (1400x$HEIGHT)"
