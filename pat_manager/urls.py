"""Job URLs in one comparable form, so the same posting is recognised however the
link was shared."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that only say where a click came from.
TRACKING_PARAMETERS = {
    "gclid", "gclsrc", "dclid", "fbclid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "ref_src", "si",
}  # fmt: skip


def _tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in TRACKING_PARAMETERS


def normalise(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking
    parameters, the other parameters sorted, and no trailing slash.

    :raise ValueError: not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise ValueError("not an absolute http(s) URL")
    port = parts.port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = parts.path.rstrip("/")
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _tracking(key)
    )
    return f"{scheme}://{netloc}{path}" + (f"?{urlencode(query)}" if query else "")
