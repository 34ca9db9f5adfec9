"""Qifang (企访): enterprise-visit survey data to policy briefs and proposal drafts."""

__version__ = "0.1.0"
