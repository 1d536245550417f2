"""Volunteers: their profile and their overview ("Meine Übersicht")."""
