"""What a caller may see, enforced in the data layer.

Every query over households, buildings, stations, readings or tickets filters through
the ``household_context`` view (one row per household with its whole chain:
household → building → station → enterprise, community, county → city → region) using
``Scope.where``. An empty scope sees nothing; ``Scope.everything()`` sees all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    """Allowed rows. Each set restricts; ``None`` means no restriction at that level.

    A household is visible when it passes every restriction that is set.
    """

    region_ids: frozenset[str] | None = None  # any of region_id, city_id, county_id
    enterprise_ids: frozenset[str] | None = None
    community_ids: frozenset[str] | None = None
    household_ids: frozenset[str] | None = None
    mask_personal: bool = True  # hide resident names and phone numbers

    @classmethod
    def everything(cls, *, mask_personal: bool = False) -> Scope:
        return cls(mask_personal=mask_personal)

    @property
    def is_unrestricted(self) -> bool:
        return (
            self.region_ids is None
            and self.enterprise_ids is None
            and self.community_ids is None
            and self.household_ids is None
        )

    def where(self, alias: str = "hc") -> tuple[str, list[str]]:
        """SQL condition on a ``household_context`` alias, with ``?`` placeholders."""
        clauses: list[str] = []
        params: list[str] = []

        def member(columns: list[str], values: frozenset[str]) -> None:
            if not values:
                clauses.append("FALSE")
                return
            marks = ", ".join("?" for _ in values)
            ordered = sorted(values)
            parts = []
            for column in columns:
                parts.append(f"{alias}.{column} IN ({marks})")
                params.extend(ordered)
            clauses.append("(" + " OR ".join(parts) + ")")

        if self.region_ids is not None:
            member(["region_id", "city_id", "county_id"], self.region_ids)
        if self.enterprise_ids is not None:
            member(["enterprise_id"], self.enterprise_ids)
        if self.community_ids is not None:
            member(["community_id"], self.community_ids)
        if self.household_ids is not None:
            member(["household_id"], self.household_ids)
        return (" AND ".join(clauses) if clauses else "TRUE"), params
