"""Coordination (Steuerungsgruppe): approving profiles, and later the proposal queue and gaps."""
