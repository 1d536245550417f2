"""The toolkit ("Werkzeugkoffer"): materials per phase, public by phase, curated by coordinators."""
