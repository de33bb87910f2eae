"""English labels of the choice values core stores: roles, relations, sexes, goal areas and
states, close reasons, statuses and the choices of core's event payloads.

The database and the forms hold values such as ``re_offended`` or ``case_manager``; pages show
:func:`core.web.forms.option_label`, which looks the value up here and translates the label in
the current language. The labels are written as ``N_("...")`` so that ``pybabel extract`` puts
them in the catalog: a label made at run time (``value.replace("_", " ").capitalize()``) is
invisible to extraction, and would stay English in every language.

A value missing here is shown as its humanised English (``"lost_contact"`` -> ``"Lost contact"``)
through gettext; ``tests/core/test_i18n.py`` fails when a value of a core enum or a choice of a
core event payload has no label, so add one here when you add such a value. A module labels its
own choice values by writing ``N_("...")`` for each one in its code (see ``docs/i18n.md``).
"""

from __future__ import annotations

from core.i18n import N_

LABELS: dict[str, str] = {
    # Role
    "admin": N_("Admin"),
    "case_manager": N_("Case manager"),
    "programme_officer": N_("Programme officer"),
    "finance": N_("Finance"),
    "auditor": N_("Auditor"),
    "viewer": N_("Viewer"),
    # CaseStatus (the same words as core.services.cases.status_label)
    "referred": N_("Referred"),
    "pre_release": N_("Pre-release"),
    "released": N_("Released"),
    "follow_up": N_("Follow-up"),
    "closed": N_("Closed"),
    # CloseReason (the same words as core.services.cases.close_reason_label)
    "completed": N_("Completed"),
    "re_offended": N_("Re-offended"),
    "withdrew": N_("Withdrew"),
    "transferred": N_("Transferred"),
    "deceased": N_("Deceased"),
    "lost_contact": N_("Lost contact"),
    # Sex
    "female": N_("Female"),
    "male": N_("Male"),
    # Relation (what the relative is to the person)
    "parent": N_("Parent"),
    "spouse": N_("Spouse"),
    "child": N_("Child"),
    "sibling": N_("Sibling"),
    "guardian": N_("Guardian"),
    "other": N_("Other"),  # also Sex.other and the "other" way of a family contact
    # GoalArea
    "housing": N_("Housing"),
    "work": N_("Work and income"),
    "family": N_("Family"),
    "health": N_("Health"),
    "documents": N_("Identity documents"),
    "education": N_("Education"),
    # GoalState
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "met": N_("Met"),
    "declined": N_("Declined"),
    # core.family_contact: contact
    "visit": N_("Visit"),
    "phone": N_("Phone"),  # also a follow-up visit made by phone
    "message": N_("Message"),
    # core.follow_up_visit: place, wellbeing
    "home": N_("Home"),
    "workplace": N_("Workplace"),
    "office": N_("Office"),
    "good": N_("Good"),
    "fair": N_("Fair"),
    "poor": N_("Poor"),
    # core.follow_up_visit: work
    "employed": N_("Employed"),
    "own_business": N_("Running own business"),
    "studying": N_("Studying"),
    "looking": N_("Looking for work"),
    "not_working": N_("Not working"),
    # core.follow_up_visit: housing
    "family_home": N_("Family home"),
    "own_home": N_("Own home"),
    "rented": N_("Rented"),
    "shelter": N_("Shelter or temporary housing"),
    "homeless": N_("Homeless"),
    # core.follow_up_visit: currency of the income
    "USD": N_("US dollar (USD)"),
    "KHR": N_("Riel (KHR)"),
    # core.follow_up_visit: family situation
    "living_with_family": N_("Living with family"),
    "in_contact": N_("In contact, living apart"),
    "strained": N_("Strained relations"),
    "no_contact": N_("No contact"),
    # core.reoffended: stage
    "suspected": N_("Suspected"),
    "arrested": N_("Arrested"),
    "charged": N_("Charged"),
    "convicted": N_("Convicted"),
    # core.reoffended: source
    "police": N_("Police"),
    "court": N_("Court record"),
    "self_report": N_("Self-report"),
    "partner": N_("Partner organisation"),
    "community": N_("Community"),
    # ConsentPurpose (docs/privacy.md)
    "records": N_("Keeping and using their records in the programme"),
    "share_with_partners": N_("Sharing what a referral needs with partner organisations"),
    "contact_family": N_("Contacting and visiting their family"),
    "photos": N_("Photographs and their story in reports to donors"),
    # ConsentMethod
    "signed": N_("Signed form"),
    "thumbprint": N_("Thumbprint"),
    "verbal": N_("Verbal, witnessed by staff"),
    # "guardian" (given by a guardian) has the label of the relation above.
}
