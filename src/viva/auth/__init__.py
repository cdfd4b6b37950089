"""Who is calling: API keys, dashboard users and their cookies, scopes, CSRF, rate limits."""
