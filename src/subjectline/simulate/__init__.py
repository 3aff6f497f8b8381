"""Simulation and off-policy evaluation: the logged-feedback contract, OPE estimators, OBD."""

from subjectline.simulate.feedback import LoggedFeedback

__all__ = ["LoggedFeedback"]
