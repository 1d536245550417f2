"""Public pages of open needs: the list with filters and each need's own page."""
