"""WSGI entry point (gunicorn config.wsgi): production settings unless the environment names others.

Once Django, its apps and every URL pattern (so every view module) are loaded, the objects they
made live as long as the process: `gc.freeze()` moves them out of the cyclic collector's reach,
so its collections on a request's allocations no longer walk hundreds of thousands of module
objects each time (about a fifth of the update check's time went there). Under gunicorn's
preload the forked workers inherit the frozen set, and pages shared with the master stay shared.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 - import every view module now, before the freeze
gc.collect()
gc.freeze()
