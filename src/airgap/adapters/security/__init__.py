"""Real security adapters: argon2 passwords, JWT tokens, Ed25519 signatures, AES-256-GCM."""
