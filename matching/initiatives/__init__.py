"""Initiatives: their profile and their needs ("Meine Anfragen")."""
