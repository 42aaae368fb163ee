"""One date format across the admin and the portal (English): ISO dates, 24-hour times, the zone named.

settings.FORMAT_MODULE_PATH points here; Django's own English formats ("Nov. 28, 2026, 5:31 a.m.")
are what this replaces.
"""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
