"""Rate limits and injected faults of the Slack emulator.

Contract:
- `RateLimits`: a token bucket per (target, key) — target "chat.postMessage" keyed by
  channel (Slack: about one message per second per channel, short bursts allowed),
  "webhook" keyed by hook (about one per second per hook), "auth.test" keyed by token
  (Tier 4 style, 100 per minute). `take(target, key, now)` returns 0 when the call may
  proceed, else the whole seconds until it may (the Retry-After Slack sends, >= 1).
  `configure(target, per_second, burst)` changes a target's limit; `per_second` 0 turns
  it off. Buckets refill on the emulator's clock, so tests move time instead of
  sleeping.
- `Faults`: queued answers `{"target", "status", "error", "retry_after", "count"}`;
  `take(target)` returns the next fault for the target ("*" matches every target) and
  uses one of its count.
"""

DEFAULTS = {"chat.postMessage": (1.0, 20), "webhook": (1.0, 20), "auth.test": (100 / 60.0, 100)}


class RateLimits:
    def __init__(self):
        self.limits = dict(DEFAULTS)
        self.buckets = {}

    def configure(self, target, per_second, burst):
        if target not in DEFAULTS:
            raise ValueError("unknown rate-limit target %r (known: %s)" % (target, sorted(DEFAULTS)))
        if per_second < 0 or burst < 1:
            raise ValueError("per_second must be >= 0 and burst >= 1")
        self.limits[target] = (float(per_second), int(burst))
        self.buckets = {k: v for k, v in self.buckets.items() if k[0] != target}

    def take(self, target, key, now):
        rate, burst = self.limits[target]
        if rate == 0:
            return 0
        tokens, at = self.buckets.get((target, key), (float(burst), now))
        tokens = min(float(burst), tokens + (now - at) * rate)
        if tokens >= 1.0:
            self.buckets[(target, key)] = (tokens - 1.0, now)
            return 0
        self.buckets[(target, key)] = (tokens, now)
        wait = (1.0 - tokens) / rate
        return max(1, int(wait + 0.999))


class Faults:
    def __init__(self):
        self.queue = []

    def add(self, req):
        status = int(req.get("status", 200 if "error" in req else 500))
        count = int(req.get("count", 1))
        if count < 1 or not 100 <= status <= 599:
            raise ValueError("count must be >= 1 and status an HTTP status")
        self.queue.append({"target": req.get("target", "*"), "status": status,
                           "error": req.get("error"), "retry_after": req.get("retry_after"),
                           "count": count})

    def take(self, target):
        for f in self.queue:
            if f["count"] > 0 and f["target"] in ("*", target):
                f["count"] -= 1
                return f
        return None
