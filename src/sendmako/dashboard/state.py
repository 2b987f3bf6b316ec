"""What the dashboard keeps for the process's lifetime, built by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from sendmako.dashboard.cookies import CookieCodec
from sendmako.dashboard.proxies import TrustedProxies
from sendmako.dashboard.secret import load_secret
from sendmako.dashboard.shared_throttle import RedisThrottle
from sendmako.dashboard.throttle import LoginThrottle, Throttle
from sendmako.settings import Settings
from sendmako.storage.db import Database


@dataclass
class DashboardState:
    cookies: CookieCodec
    secure_cookies: bool  # the public URL is https: cookies never travel in clear
    proxies: TrustedProxies = field(default_factory=TrustedProxies)  # their clients' addresses
    throttle: Throttle = field(default_factory=LoginThrottle)
    redis: Redis | None = None  # the shared throttle's, on several nodes

    @classmethod
    async def load(cls, settings: Settings, db: Database) -> DashboardState:
        state = cls(
            cookies=CookieCodec(await load_secret(settings, db)),
            secure_cookies=settings.effective_public_url.startswith("https://"),
            proxies=TrustedProxies.parse(settings.trusted_proxies),
        )
        if settings.clustered:
            assert settings.redis_url is not None
            state.redis = Redis.from_url(settings.redis_url.get_secret_value())
            state.throttle = RedisThrottle(state.redis, settings.cluster.redis_prefix)
        return state

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
