"""What a PAT may do and from where: its scopes, allowed networks and allowed
extension origin. Stored as plain text on the PAT; parsed and checked here only."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from .errors import ValidationError

WRITE, READ = "submissions:write", "submissions:read"
SCOPES = {
    WRITE: "Save job applications (what the browser extension needs)",
    READ: "Read the submission history (for analytics tools)",
}
DEFAULT_SCOPES = WRITE
MAX_NETWORKS = 20
# Ranges broader than these are not a limit worth the name.
MIN_PREFIX = {4: 8, 6: 16}
# Origins browsers give extension pages; a web page can never claim one of these.
EXTENSION_ORIGIN = re.compile(
    r"(chrome|moz|safari-web)-extension://[A-Za-z0-9._-]{1,128}"
)


def clean_scopes(values) -> str:
    """The chosen scopes as stored ("a b"), in a fixed order.

    :raise ValidationError: none chosen, or one that does not exist.
    """
    chosen = {str(v).strip() for v in values or () if str(v).strip()}
    unknown = chosen - set(SCOPES)
    if unknown:
        raise ValidationError(
            {
                "scopes": f"Unknown scope: {sorted(unknown)[0][:40]}. Choose from the list."
            }
        )
    if not chosen:
        raise ValidationError(
            {
                "scopes": "Choose at least one scope; the extension needs submissions:write."
            }
        )
    return " ".join(scope for scope in SCOPES if scope in chosen)


def scopes_of(pat: dict) -> frozenset[str]:
    return frozenset((pat.get("scopes") or DEFAULT_SCOPES).split())


def clean_networks(text: str | None) -> str:
    """Networks typed one per line or separated by commas, as stored ("a,b").

    A single address is taken as its own /32 or /128. IPv4-mapped IPv6 entries
    are stored as IPv4, which is how IPv4 clients are compared.

    :raise ValidationError: an entry is not an IP network, has host bits set
        (203.0.113.9/24: one address or the whole range?), allows everything,
        or there are too many.
    """
    entries = list(dict.fromkeys(e for e in re.split(r"[\s,]+", text or "") if e))
    if len(entries) > MAX_NETWORKS:
        raise ValidationError(
            {"allowed_networks": f"List at most {MAX_NETWORKS} networks."}
        )
    networks = []
    for entry in entries:
        shown = entry[:60]
        if "%" in entry:
            # A zone names an interface of one machine; it never matches a client.
            raise ValidationError(
                {"allowed_networks": f"“{shown}”: leave out the %zone part."}
            )
        try:
            if len(entry) > 60:
                raise ValueError("too long")
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValidationError(
                {
                    "allowed_networks": f"“{shown}” is not a network. Write an address"
                    " like 203.0.113.7 or a range like 203.0.113.0/24 or 2001:db8::/48."
                }
            ) from None
        # A mapped range's network address is mapped only when it lies within
        # ::ffff:0:0/96, so the prefix is at least 96 here.
        if network.version == 6 and network.network_address.ipv4_mapped:
            network = ipaddress.ip_network(
                f"{network.network_address.ipv4_mapped}/{network.prefixlen - 96}"
            )
        if "/" in entry and not ipaddress.ip_network(
            entry, strict=False
        ).network_address == ipaddress.ip_address(entry.split("/")[0]):
            raise ValidationError(
                {
                    "allowed_networks": f"“{shown}” mixes an address and a range."
                    f" Write {network.network_address}/{network.prefixlen} for the"
                    f" range, or {entry.split('/')[0]} alone for that one address."
                }
            )
        if network.prefixlen < MIN_PREFIX[network.version]:
            raise ValidationError(
                {
                    "allowed_networks": f"“{shown}” is too broad (at most"
                    f" /{MIN_PREFIX[network.version]} for IPv{network.version})."
                    " Leave the list empty to allow any network."
                }
            )
        if str(network) not in networks:
            networks.append(str(network))
    return ",".join(networks)


@lru_cache(maxsize=1024)
def _parsed_networks(stored: str) -> tuple:
    return tuple(ipaddress.ip_network(n) for n in stored.split(",") if n)


def network_allows(pat: dict, ip: str | None) -> bool:
    """True when the PAT has no network list, or the address is in one of them."""
    stored = pat.get("allowed_networks") or ""
    if not stored:
        return True
    if ip is None:
        return False
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(
        address.version == net.version and address in net
        for net in _parsed_networks(stored)
    )


def clean_origin(text: str | None) -> str | None:
    """An extension origin such as chrome-extension://<id>, or None for any.

    :raise ValidationError: not an extension origin.
    """
    # Browsers send extension origins in lower case.
    origin = (text or "").strip().rstrip("/").lower()
    if not origin:
        return None
    if not EXTENSION_ORIGIN.fullmatch(origin):
        raise ValidationError(
            {
                "allowed_origin": "Enter an extension origin like"
                " chrome-extension://abcdefghijklmnopabcdefghijklmnop (from your"
                " browser's extensions page), or leave it empty."
            }
        )
    return origin


def origin_allows(pat: dict, origin: str | None) -> bool:
    """A browser request from another origin is refused; requests that carry no
    Origin (scripts, servers) are not browser requests and are judged by the
    network list instead."""
    allowed = pat.get("allowed_origin")
    if not allowed or not origin:
        return True
    return origin == allowed


def describe(pat: dict) -> list[str]:
    """Short lines for the PAT card: its limits beyond the defaults."""
    lines = []
    scopes = scopes_of(pat)
    if scopes != {WRITE}:
        lines.append("Scopes: " + ", ".join(s for s in SCOPES if s in scopes))
    if pat.get("allowed_networks"):
        lines.append("Only from: " + ", ".join(pat["allowed_networks"].split(",")))
    if pat.get("allowed_origin"):
        lines.append("Only extension: " + pat["allowed_origin"])
    return lines
