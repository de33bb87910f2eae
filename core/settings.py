"""Settings, read from the environment when asked for, never at import time."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///homecoming.db"


@dataclass(frozen=True)
class Settings:
    """Everything the app and the CLI need to start.

    ``secret_key`` signs CSRF tokens; when it is not given, one is generated per process, which is
    fine for one server but must be set (``HOMECOMING_SECRET_KEY``) when several servers share a
    database behind a load balancer.
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secure_cookies: bool = False
    session_hours: int = 12
    session_idle_minutes: int = 60
    template_overrides: Path | None = None
    disabled_plugins: frozenset[str] = frozenset()
    debug: bool = False
    behind_proxy: bool = False


def get_settings(database_url: str | None = None, **overrides: object) -> Settings:
    """Build :class:`Settings` from the environment, with explicit arguments winning.

    Environment: ``HOMECOMING_DATABASE_URL``, ``HOMECOMING_SECRET_KEY``,
    ``HOMECOMING_SECURE_COOKIES`` (1 behind HTTPS), ``HOMECOMING_TEMPLATES`` (a folder of site
    template overrides), ``HOMECOMING_DISABLE_PLUGINS`` (comma-separated entry-point names that
    are not loaded at all), ``HOMECOMING_DEBUG``, ``HOMECOMING_BEHIND_PROXY`` (1 when one reverse
    proxy that sets ``X-Forwarded-For`` stands in front of the app: the audit trail then records
    the address the proxy saw rather than the proxy's own, and so does the sign-in throttle per
    address), ``HOMECOMING_SESSION_IDLE_MINUTES`` (a session unused this long ends; 60 by default,
    besides the absolute lifetime ``session_hours``).
    """
    env = os.environ
    values: dict[str, object] = {
        "database_url": database_url or env.get("HOMECOMING_DATABASE_URL") or DEFAULT_DATABASE_URL,
        "secure_cookies": env.get("HOMECOMING_SECURE_COOKIES", "") == "1",
        "debug": env.get("HOMECOMING_DEBUG", "") == "1",
        "behind_proxy": env.get("HOMECOMING_BEHIND_PROXY", "") == "1",
        "disabled_plugins": frozenset(
            p.strip() for p in env.get("HOMECOMING_DISABLE_PLUGINS", "").split(",") if p.strip()
        ),
    }
    if env.get("HOMECOMING_SESSION_IDLE_MINUTES", "").strip().isdigit():
        values["session_idle_minutes"] = max(1, int(env["HOMECOMING_SESSION_IDLE_MINUTES"]))
    if env.get("HOMECOMING_SECRET_KEY"):
        values["secret_key"] = env["HOMECOMING_SECRET_KEY"]
    if env.get("HOMECOMING_TEMPLATES"):
        values["template_overrides"] = Path(env["HOMECOMING_TEMPLATES"])
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
