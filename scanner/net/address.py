"""Which resolved addresses a provider request may connect to.

Invariant: an address is refused when it, or the IPv4 address embedded in it (IPv4-mapped, IPv4-compatible,
6to4, NAT64, Teredo), is loopback, RFC 1918 / unique-local private, link-local, CGNAT 100.64.0.0/10, a cloud
metadata address, unspecified, multicast, reserved or otherwise not globally routable. `allow_internal` lifts
the refusal for loopback, private, link-local and CGNAT (self-hosted providers, loopback tests), never for
metadata, unspecified, multicast or reserved addresses: those are never a provider.
Guarded by tests/test_net_guard.py.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud metadata services: AWS/GCP/Azure/OpenStack, Alibaba Cloud, AWS over IPv6.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("100.100.100.200"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class AddressVerdict:
    """Why an address is refused (`category` is None when it may be used)."""

    address: str
    category: str | None

    @property
    def allowed(self) -> bool:
        return self.category is None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo client), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:
        return ipaddress.IPv4Address(int(address))  # IPv4-compatible ::a.b.c.d (deprecated)
    return None


def _category(address: IPAddress) -> str | None:
    """The refusal category of one address, or None for a global unicast address. Order: most specific first."""
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "cgnat"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-global"
    return None


ALWAYS_REFUSED = frozenset({"metadata", "unspecified", "multicast", "reserved", "non-global"})


def classify(address_text: str, *, allow_internal: bool = False) -> AddressVerdict:
    """The verdict for one resolved address (tests/test_net_guard.py::test_classify_*)."""
    try:
        address = ipaddress.ip_address(address_text.split("%", 1)[0])
    except ValueError:
        return AddressVerdict(address_text, "unparseable")
    outer = _category(address)
    inner = embedded_ipv4(address)
    categories = [outer]
    if inner is not None:
        if outer in {"reserved", "private"}:
            outer = None  # mapped/compatible/Teredo prefixes are "reserved" or "private": judge what they carry
        categories = [_category(inner), outer]  # name what the address really reaches first
    for category in categories:
        if category is None:
            continue
        if allow_internal and category not in ALWAYS_REFUSED:
            continue
        return AddressVerdict(address_text, category)
    return AddressVerdict(address_text, None)
