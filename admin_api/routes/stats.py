"""Officer API routes: stats (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["stats"])
