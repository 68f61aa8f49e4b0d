"""Request counts for the rate limit, in Redis (the queue's and catalog's), shared by every API
process.

``count(key, ttl_s)`` is one transaction of ``INCR key`` and ``EXPIRE key ttl_s``: the first
request of a window creates its key, and a key outlives its window by ``ttl_s`` so that no
process counts into a key Redis has already dropped. A Redis outage is
``Unavailable(service="redis")`` (``adapters._redis``).
"""

from __future__ import annotations

from redis import Redis

from docqa.adapters import _redis


class RedisRequestCounter:
    """The ``RequestCounter`` on one Redis."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    @_redis.guarded()
    def count(self, key: str, ttl_s: int) -> int:
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, ttl_s)
        return int(pipe.execute()[0])
