"""Seeing the gaps: the coordinators' overview, the phase × district coverage picture, CSV exports."""
