"""What tests name of the canon pack (Metallic Rouge) without opening it: shared by the
counterfactual harness and the suites beside it, so neither imports the other."""

from __future__ import annotations

#: The canon's featured roster (``/immortal-nine``): the roster command and the group's slug, as
#: its pack declares them.
IMMORTAL_NINE = "immortal-nine"
