"""Custom search attributes ops filter leads by in the Temporal Web UI.

Never put an email address, phone number or name into one: search attributes are
stored and indexed unencrypted.
"""

from temporalio.common import SearchAttributeKey

LEAD_MODE = SearchAttributeKey.for_keyword("LeadMode")
LEAD_STEP = SearchAttributeKey.for_keyword("LeadStep")
LEAD_CADENCE = SearchAttributeKey.for_keyword("LeadCadence")
LEAD_OWNER = SearchAttributeKey.for_keyword("LeadOwner")
LEAD_SEGMENT = SearchAttributeKey.for_keyword("LeadSegment")
LEAD_NEXT_TOUCH_AT = SearchAttributeKey.for_datetime("LeadNextTouchAt")
LEAD_OUTCOME = SearchAttributeKey.for_keyword("LeadOutcome")

ALL = (
    LEAD_MODE,
    LEAD_STEP,
    LEAD_CADENCE,
    LEAD_OWNER,
    LEAD_SEGMENT,
    LEAD_NEXT_TOUCH_AT,
    LEAD_OUTCOME,
)
