"""Data protection pages: "Meine Daten" (download, erase) and agreeing to a new privacy text."""
