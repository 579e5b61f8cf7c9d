"""Left only for html.py, which imports `count` from here: the line folding that lived here is now in lines.py.

html.py belongs to another change; once it imports `plural` from lines.py instead, delete this module.
"""

from headroom.runtime.compressors.lines import plural as count

__all__ = ["count"]
