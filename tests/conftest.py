"""Shared test settings.

Hypothesis runs without deadlines (CI machines are shared and noisy). The reversible store and Lark's parser cache
go to a temporary folder for the whole run, so tests never touch the user's ~/.headroom or ~/.cache.
"""

import os
import tempfile

from hypothesis import HealthCheck, settings

_SCRATCH = tempfile.mkdtemp(prefix="headroom-tests-")
os.environ.setdefault("HEADROOM_STORE_PATH", os.path.join(_SCRATCH, "ccr_store.db"))
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(_SCRATCH, "cache"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")
