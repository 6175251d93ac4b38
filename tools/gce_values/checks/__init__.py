"""The checks a merged conf goes through, each with its rule ids."""
