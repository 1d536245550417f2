"""State changes with their permission checks and audit records; views, API and jobs call them."""
