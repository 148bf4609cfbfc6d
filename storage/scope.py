"""Jurisdiction: which tips an officer may see, as one SQL condition and one Python check."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from storage.domain import RESTRICTED_CATEGORIES, Category, OfficerRole
from storage.models import Officer, Tip


@dataclass(frozen=True, slots=True)
class Scope:
    """The areas and restricted categories an officer may see."""

    nationwide: bool
    province_codes: frozenset[int]
    ward_codes: frozenset[int]
    can_view_restricted: bool
    role: OfficerRole = OfficerRole.OFFICER

    @classmethod
    def of(cls, officer: Officer) -> Scope:
        """The scope of an officer as stored."""
        return cls(
            nationwide=officer.nationwide,
            province_codes=frozenset(p.province_code for p in officer.provinces),
            ward_codes=frozenset(w.ward_code for w in officer.wards),
            can_view_restricted=officer.can_view_restricted,
            role=officer.role,
        )

    def area_clause(self, province_col: ColumnElement[int], ward_col: ColumnElement[int | None]) -> ColumnElement[bool]:
        """SQL condition: the row's province/ward lies inside this jurisdiction."""
        if self.nationwide:
            return true()
        parts: list[ColumnElement[bool]] = []
        if self.province_codes:
            parts.append(province_col.in_(sorted(self.province_codes)))
        if self.ward_codes:
            parts.append(ward_col.in_(sorted(self.ward_codes)))
        return or_(*parts) if parts else false()

    def category_clause(self, category_col: ColumnElement[str]) -> ColumnElement[bool]:
        """SQL condition: the row's category is one this officer may see."""
        if self.can_view_restricted:
            return true()
        return category_col.not_in(sorted(RESTRICTED_CATEGORIES))

    def tip_clause(self) -> ColumnElement[bool]:
        """SQL condition for tips this officer may see (area and restricted categories)."""
        area = self.area_clause(Tip.province_code, Tip.ward_code)  # type: ignore[arg-type]
        if self.can_view_restricted:
            return area
        return and_(area, self.category_clause(Tip.category))  # type: ignore[arg-type]

    def covers_area(self, province_code: int, ward_code: int | None) -> bool:
        """Python check of the same area rule."""
        return (
            self.nationwide
            or province_code in self.province_codes
            or (ward_code is not None and ward_code in self.ward_codes)
        )

    def covers_tip(self, tip: Tip) -> bool:
        """Python check of `tip_clause` for one loaded tip."""
        if tip.category in RESTRICTED_CATEGORIES and not self.can_view_restricted:
            return False
        return self.covers_area(tip.province_code, tip.ward_code)

    def covers_category(self, category: Category) -> bool:
        """Whether the restricted-category permission allows this category."""
        return self.can_view_restricted or category not in RESTRICTED_CATEGORIES

    def contains(self, other: Scope, ward_provinces: dict[int, int]) -> bool:
        """True if every area of `other` lies inside this scope (`ward_provinces`: ward → province)."""
        if self.nationwide:
            return True
        if other.nationwide:
            return False
        if not other.province_codes <= self.province_codes:
            return False
        return all(w in self.ward_codes or ward_provinces.get(w) in self.province_codes for w in other.ward_codes)
