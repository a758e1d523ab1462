"""Redis adapters: the rate limiter (one Lua script), the query cache, the token deny-list."""
