"""A subject at send time: ``subjectline serve-api`` (see docs/serve.md).

Public API::

    from subjectline.serve import SubjectAPI, ServeSettings, Answer, SubjectError, create_app
"""

from subjectline.serve.api import Answer, ServeSettings, SubjectAPI, SubjectError
from subjectline.serve.app import ApiSettings, create_app

__all__ = ["Answer", "ApiSettings", "ServeSettings", "SubjectAPI", "SubjectError", "create_app"]
