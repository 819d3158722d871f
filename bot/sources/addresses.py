"""Which network addresses the fetcher may connect to: globally routable unicast, nothing else.

Python's own `is_global` is too lenient on 3.11 (it calls multicast, IPv4-mapped, NAT64 and
6to4-wrapped loopback addresses "global"), so the rules are spelled out here.
"""

from __future__ import annotations

import ipaddress
import re
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_BLOCKED_V4 = tuple(ipaddress.IPv4Network(net) for net in (
    "0.0.0.0/8",        # "this network", includes 0.0.0.0
    "10.0.0.0/8",       # private
    "100.64.0.0/10",    # carrier-grade NAT
    "127.0.0.0/8",      # loopback
    "169.254.0.0/16",   # link-local, cloud metadata (169.254.169.254)
    "172.16.0.0/12",    # private
    "192.0.0.0/24",     # IETF protocol assignments
    "192.0.2.0/24",     # documentation
    "192.88.99.0/24",   # 6to4 relay anycast (deprecated)
    "192.168.0.0/16",   # private
    "198.18.0.0/15",    # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",   # documentation
    "224.0.0.0/4",      # multicast
    "240.0.0.0/4",      # reserved, includes 255.255.255.255
))

# Only 2000::/3 is allocated as global unicast; everything outside it (loopback, unspecified,
# IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48,
# discard 100::/64, unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8...) is refused.
_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(ipaddress.IPv6Network(net) for net in (
    "2001::/23",        # IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID
    "2001:db8::/32",    # documentation
    "3fff::/20",        # documentation (RFC 9637)
))
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")

# Characters of the odd IPv4 spellings that inet_aton accepts: 127.1, 2130706433, 0x7f000001, 0177.0.0.1.
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-FxX.]+$")


def is_public_address(address: IPAddress) -> bool:
    """True when `address` is globally routable unicast, the only kind a fetch may reach."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_global and not any(address in net for net in _BLOCKED_V4)
    if address not in _GLOBAL_UNICAST_V6 or any(address in net for net in _BLOCKED_V6):
        return False
    if address in _SIX_TO_FOUR:  # 6to4 carries an IPv4 address inside: judge that one
        embedded = address.sixtofour
        return embedded is not None and is_public_address(embedded)
    return address.is_global


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling the system resolver would accept
    (`[::1]`, `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`...), or None for a name."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def is_local_name(host: str) -> bool:
    """Names that always mean this machine (RFC 6761), refused before any lookup."""
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")
