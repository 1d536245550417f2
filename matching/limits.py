"""How long each text field may be: one number per field, read by forms, API schemas and checks.

The WTForms forms, the API's pydantic schemas and the state changes' own checks all take their
limits from here, and so do the messages that name the number. The database columns are at
least as wide. The password minimum is a setting (``PASSWORD_MIN_LENGTH``), not a limit here.
"""

from __future__ import annotations

# People and accounts
EMAIL_MAX = 254  # RFC 5321's longest address
NAME_MAX = 80  # first and last name
PASSWORD_MAX = 256  # argon2 does not need more; a longer "password" is pasted by mistake
PHONE_MAX = 40
BIO_MAX = 1000

# Initiatives and needs
INITIATIVE_NAME_MAX = 120
SUB_DISTRICT_MAX = 80
INITIATIVE_DESCRIPTION_MAX = 1000
WEBSITE_MAX = 300
CONTACT_NAME_MAX = 120  # the contact person of a need taken down by phone
NEED_TITLE_MAX = 120
NEED_DESCRIPTION_MAX = 4000

# What people write to each other and to the coordinators
REASON_MAX = 1000  # a reason for a refusal, a withdrawal, a "no"
FEEDBACK_MAX = 2000  # the initiative's comment with its rating
LOOK_BACK_MAX = 2000  # the volunteer's look back after the advice
MEETING_PLACE_MAX = 500
BARRIER_DESCRIPTION_MAX = 2000
BARRIER_PAGE_MAX = 300

# The toolkit
MATERIAL_TITLE_MAX = 120
MATERIAL_DESCRIPTION_MAX = 500
MATERIAL_URL_MAX = 500

# API tokens
TOKEN_NAME_MAX = 80
