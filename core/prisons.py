"""Cambodia's prisons, as staff name them on cases.

The General Department of Prisons runs four correctional centres (CC1 to CC4) and a provincial
prison in each province; Phnom Penh's remand prison is known as PJ. An import accepts a prison
from this list or one the organisation already named on a case (see docs/import.md), so that a
typo does not start a new prison in the reports.
"""

from __future__ import annotations

PROVINCES = (
    "Banteay Meanchey",
    "Battambang",
    "Kampong Cham",
    "Kampong Chhnang",
    "Kampong Speu",
    "Kampong Thom",
    "Kampot",
    "Kandal",
    "Kep",
    "Koh Kong",
    "Kratie",
    "Mondulkiri",
    "Oddar Meanchey",
    "Pailin",
    "Preah Sihanouk",
    "Preah Vihear",
    "Prey Veng",
    "Pursat",
    "Ratanakiri",
    "Siem Reap",
    "Stung Treng",
    "Svay Rieng",
    "Takeo",
    "Tbong Khmum",
)
"""The provinces outside Phnom Penh, each with a provincial prison."""

PRISONS: tuple[str, ...] = (
    "CC1 Prey Sar",
    "CC2 Prey Sar",
    "CC3 Trapeang Phlong",
    "CC4 Pursat",
    "PJ Prison",
    *(f"{province} Provincial Prison" for province in PROVINCES),
)
"""Every prison of the reference list, spelt as it is stored on a case."""


def normalise(name: str) -> str:
    """The form two spellings of one prison share: case and repeated spaces do not matter."""
    return " ".join(name.split()).casefold()


__all__ = ["PRISONS", "PROVINCES", "normalise"]
