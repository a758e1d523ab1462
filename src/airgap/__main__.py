"""``python -m airgap``: the same as the ``airgap`` command."""

from airgap.entrypoints.cli.main import main

main()
