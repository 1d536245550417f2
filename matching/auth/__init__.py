"""Accounts: sign-up with double opt-in, log-in, password reset, e-mail change."""
