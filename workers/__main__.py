"""`python -m workers`: run the Touchpoint worker until SIGTERM or Ctrl-C."""

from workers.worker import main

main()
