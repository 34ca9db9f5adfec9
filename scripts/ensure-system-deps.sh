#!/usr/bin/env bash
# Install the system packages Qifang needs when they are missing: a CJK font (Chinese
# glyphs in charts and PDFs), Pango (WeasyPrint's text layout) and HarfBuzz-subset
# (without it WeasyPrint subsets the CJK fonts with fontTools: 12 s a PDF instead of
# 0.2 s). With --test, also the tools the tests use: Debian's Chromium, which the desk's
# browser test drives (Playwright with executable_path; no browser is ever downloaded),
# and LibreOffice Writer and poppler-utils, which turn the drafts' DOCX into PDF to count
# their pages. Acts only as root on Debian/Ubuntu; elsewhere it says what to install.
set -euo pipefail

need=()
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
    need+=(chromium)
fi
if [ "${1:-}" = "--test" ]; then
    command -v soffice >/dev/null || need+=(libreoffice-writer-nogui)
    command -v pdfinfo >/dev/null || need+=(poppler-utils)
fi
if ! (command -v fc-list >/dev/null && fc-list :lang=zh family | grep -q .); then
    need+=(fonts-noto-cjk fontconfig)
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0'; then
    need+=(libpango-1.0-0 libpangoft2-1.0-0)
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0'; then
    need+=(libharfbuzz-subset0)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing system packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fc-cache -f >/dev/null 2>&1 || true
else
    echo "Qifang needs these system packages: ${need[*]}" >&2
    echo "  Debian/Ubuntu: sudo apt-get install ${need[*]}" >&2
    echo "  Windows/macOS: a CJK font such as Microsoft YaHei or PingFang SC is found automatically." >&2
fi
