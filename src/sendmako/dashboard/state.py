"""What the dashboard keeps for the process's lifetime, built by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from sendmako.dashboard.cookies import CookieCodec
from sendmako.dashboard.proxies import TrustedProxies
from sendmako.dashboard.secret import load_secret
from sendmako.dashboard.throttle import LoginThrottle
from sendmako.settings import Settings


@dataclass
class DashboardState:
    cookies: CookieCodec
    secure_cookies: bool  # the public URL is https: cookies never travel in clear
    proxies: TrustedProxies = field(default_factory=TrustedProxies)  # their clients' addresses
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    @classmethod
    def load(cls, settings: Settings) -> DashboardState:
        return cls(
            cookies=CookieCodec(load_secret(settings)),
            secure_cookies=settings.effective_public_url.startswith("https://"),
            proxies=TrustedProxies.parse(settings.trusted_proxies),
        )
