"""A competent forger's last step: after doctoring public files, make the manifest's file
fingerprints and the notice's fingerprint agree again (as anyone who read the published
format could), so a test shows which check still catches the doctored draw."""

from __future__ import annotations

import hashlib
import json
import re


def refingerprint(public) -> None:
    path = public / "draw_manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["published_sha256"] = {name: hashlib.sha256((public / name).read_bytes()).hexdigest()
                                    for name in manifest.get("published_sha256", {})}
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    for notice in public.glob("*.html"):
        html = re.sub(r'data-manifest-sha256="[0-9a-f]{64}"', f'data-manifest-sha256="{digest}"',
                      notice.read_text(encoding="utf-8"))
        notice.write_text(html, encoding="utf-8")
