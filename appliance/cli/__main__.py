"""``python -m appliance.cli``: the same as the ``doorward`` command."""

from appliance.cli import main

raise SystemExit(main())
