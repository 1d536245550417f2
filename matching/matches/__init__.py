"""A match seen by the people in it: offer help, accept or decline, complete, give feedback."""
