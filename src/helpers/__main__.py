import sys

from helpers.run.cli import main

sys.exit(main())
