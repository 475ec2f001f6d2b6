"""``python -m taskhub`` is the ``taskhub`` command."""

from taskhub.cli import main

raise SystemExit(main())
