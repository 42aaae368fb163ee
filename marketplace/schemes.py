"""The five numbering schemes a listing can have: names and labels only (pure).

A scheme is a property of the listing, so its names belong to the catalogue;
how each scheme makes and checks version numbers is versions.schemes.
"""

from __future__ import annotations

MANUAL, CONNECT, FORGE, OCP, BUNDLE = "manual", "connect", "forge", "ocp", "bundle"
SCHEMES = (MANUAL, CONNECT, FORGE, OCP, BUNDLE)
SCHEME_CHOICES = [
    (MANUAL, "Manual (vendor types the number, reviewed)"),
    (CONNECT, "Connect (portal polls the descriptor URL)"),
    (FORGE, "Forge (vendor pushes production deploys)"),
    (OCP, "OCP (key@version, dev/beta/private tags)"),
    (BUNDLE, "Bundle (app group shared with components)"),
]
# Schemes whose versions the portal creates itself (no vendor-typed number).
AUTOMATIC_SCHEMES = (CONNECT, FORGE)
